/**
 * Picks the TargetController of a Canary by `spec.targetRef.kind` (Flagger pkg/canary/factory.go),
 * without Flagger's silent "assuming deployment" fallback: kinds Fledge does not implement yet are
 * an UnsupportedError.
 */
import { isKnativeTarget } from '../apis/flagger/v1beta1/defaults.ts';
import { type Canary, type TargetKind, isTargetKind } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError, UnsupportedError } from '../core/errors.ts';
import { DaemonSetController } from './daemonset-controller.ts';
import { DeploymentController, type DeploymentControllerOptions } from './deployment-controller.ts';
import type { TargetController } from './target.ts';

/** What the target controllers need; built once in the composition root. */
export type TargetFactoryDeps = DeploymentControllerOptions;

/**
 * Returns `canary → TargetController`. Controllers are stateless per Canary, so one instance per
 * kind serves all of them. Throws UnsupportedError for Service and Knative targets,
 * InvalidCanaryError for a kind outside the CRD enum.
 */
export function targetFactory(deps: TargetFactoryDeps): (canary: Canary) => TargetController {
  const deployment = new DeploymentController(deps);
  const daemonSet = new DaemonSetController(deps);
  const controllers = {
    Deployment: () => deployment,
    DaemonSet: () => daemonSet,
    Service: (canary) => {
      throw new UnsupportedError(
        isKnativeTarget(canary)
          ? 'Knative Service targets are not supported yet'
          : 'Service targets are not supported yet',
      );
    },
  } satisfies Record<TargetKind, (canary: Canary) => TargetController>;
  return (canary) => {
    const kind: string = canary.spec.targetRef.kind;
    if (!isTargetKind(kind)) throw new InvalidCanaryError(`unknown target kind "${kind}"`);
    return controllers[kind](canary);
  };
}
