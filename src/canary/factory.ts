/**
 * Picks the TargetController of a Canary by `spec.targetRef.kind` (Flagger pkg/canary/factory.go),
 * without Flagger's silent "assuming deployment" fallback: kinds Fledge does not implement yet are
 * an UnsupportedError.
 */
import { isKnativeTarget } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, TargetKind } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError, UnsupportedError } from '../core/errors.ts';
import { DeploymentController, type DeploymentControllerOptions } from './deployment-controller.ts';
import type { TargetController } from './target.ts';

/** What the target controllers need; built once in the composition root. */
export type TargetFactoryDeps = DeploymentControllerOptions;

/**
 * Returns `canary → TargetController`. The Deployment controller is stateless per Canary, so one
 * instance serves all of them. Throws UnsupportedError for DaemonSet, Service and Knative targets,
 * InvalidCanaryError for a kind outside the CRD enum.
 */
export function targetFactory(deps: TargetFactoryDeps): (canary: Canary) => TargetController {
  const deployment = new DeploymentController(deps);
  return (canary) => {
    const kind: TargetKind = canary.spec.targetRef.kind;
    switch (kind) {
      case 'Deployment':
        return deployment;
      case 'DaemonSet':
        throw new UnsupportedError('DaemonSet targets are not supported yet');
      case 'Service':
        throw new UnsupportedError(
          isKnativeTarget(canary)
            ? 'Knative Service targets are not supported yet'
            : 'Service targets are not supported yet',
        );
      default: {
        const unknown: never = kind;
        throw new InvalidCanaryError(`unknown target kind "${String(unknown)}"`);
      }
    }
  };
}
