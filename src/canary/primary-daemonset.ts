/**
 * The `<target>-primary` DaemonSet as Fledge wants it (Flagger daemonset_controller.go
 * createPrimaryDaemonSet / Promote), and the scale-to-zero node selector every DaemonSet read
 * ignores. Pure: tested by value; the controller applies it.
 */
import { readDaemonSet } from '../apis/apps/v1/read.ts';
import { nodeSelectorOf } from '../apis/core/v1/read.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { SCALE_TO_ZERO_NODE_SELECTOR } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError } from '../core/errors.ts';
import { type JsonObject, isRecord } from '../kube/json.ts';
import type { KubeObject } from '../kube/objects.ts';
import { type PrimaryWorkloadOptions, primaryObjectMeta, primaryPodTemplate } from './primary-deployment.ts';
import { dotted, primaryName } from './util.ts';

/**
 * `template` without the `flagger.app/scale-to-zero` node selector Fledge adds to scale a DaemonSet
 * to zero (and without `nodeSelector` when that was its only key, or it is empty): the template the user wrote. The
 * input is not modified; it is returned as is when it has no such selector.
 */
export function withoutScaleToZero(template: JsonObject): JsonObject {
  const podSpec = isRecord(template['spec']) ? template['spec'] : {};
  const selector = nodeSelectorOf(podSpec);
  // An emptied selector (`{}` after a merge patch removed the key) is the same as none.
  const empty = isRecord(podSpec['nodeSelector']) && Object.keys(selector).length === 0;
  if (!(SCALE_TO_ZERO_NODE_SELECTOR in selector) && !empty) return template;
  const { [SCALE_TO_ZERO_NODE_SELECTOR]: _scaled, ...kept } = selector;
  const { nodeSelector: _old, ...rest } = podSpec;
  return { ...template, spec: Object.keys(kept).length > 0 ? { ...rest, nodeSelector: kept } : rest };
}

/**
 * The desired `<target>-primary` DaemonSet, as an apply intent:
 * - selector `{<labelKey>: <labelValue>-primary}`; metadata and pod template as for a Deployment
 *   (see `primaryObjectMeta` and `primaryPodTemplate`), from the target's template without the
 *   scale-to-zero node selector;
 * - minReadySeconds, revisionHistoryLimit and updateStrategy copied.
 *
 * Throws InvalidCanaryError when the target's update strategy is not RollingUpdate (with OnDelete
 * a promotion would never reach the primary's pods), as Flagger does.
 */
export function buildPrimaryDaemonSet(canary: Canary, target: KubeObject, options: PrimaryWorkloadOptions): KubeObject {
  const ds = readDaemonSet(target);
  if (ds.updateStrategyType !== undefined && ds.updateStrategyType !== 'RollingUpdate') {
    throw new InvalidCanaryError(
      `daemonset ${dotted(target.metadata.name, target.metadata.namespace)} must have RollingUpdate strategy but has ${ds.updateStrategyType}`,
    );
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: primaryObjectMeta(canary, target, options),
    spec: {
      selector: { matchLabels: { [options.labelKey]: primaryName(options.labelValue) } },
      ...structuredClone(ds.copiedSpec),
      template: primaryPodTemplate(withoutScaleToZero(ds.template), options),
    },
  };
}
