/**
 * Checks of a parsed Canary that need more than its own fields' types: whether its analysis can
 * ever reach promotion, and which object names it will claim in its namespace. Pure.
 */
import { analysisOf, deploymentStrategy, skipAnalysis } from './defaults.ts';
import { isRecord } from './decode.ts';
import type { AutoscalerKind, Canary } from './types.ts';

/** Autoscaler kinds of the CRD enum Fledge does not implement yet (KEDA). */
export const unimplementedAutoscalers: readonly AutoscalerKind[] = ['ScaledObject'];

/** Why the canary's autoscaler can't be handled yet, or undefined. */
export function unimplementedAutoscaler(canary: Canary): string | undefined {
  const kind = canary.spec.autoscalerRef?.kind;
  return kind !== undefined && unimplementedAutoscalers.includes(kind)
    ? `${kind} autoscalers are not supported yet`
    : undefined;
}

/**
 * Why a new revision of this canary could never be promoted, or undefined when it can. Blue/Green
 * and A/B advance by `iterations` (> 0 by definition of those strategies); the canary strategy needs
 * a positive `stepWeight` or `stepWeights` (whose bounds the parser checks). `maxWeight: 0` means
 * the default 100, as in Flagger. A router that can't shift weights (`kubernetes`) turns every
 * analysis into Blue/Green with 10 iterations when it has none, so it always gets there.
 */
export function unreachablePromotion(canary: Canary, router: { readonly weights: boolean }): string | undefined {
  const analysis = analysisOf(canary);
  if (analysis === undefined || skipAnalysis(canary) || !router.weights) return undefined;
  if (deploymentStrategy(canary) !== 'canary') return undefined;
  if ((analysis.stepWeights ?? []).length > 0 || (analysis.stepWeight ?? 0) > 0) return undefined;
  const what = (analysis.match ?? []).length > 0 ? 'A/B testing needs iterations > 0; ' : '';
  return (
    `spec.analysis: ${what}no iterations, no positive stepWeight and no stepWeights: ` +
    'the canary weight could never grow, so no new revision could ever be promoted'
  );
}

const str = (u: unknown): string | undefined => (typeof u === 'string' && u !== '' ? u : undefined);

/**
 * The objects a Canary creates or drives in its namespace, as `<Kind>/<name>`: its target, the
 * primary workload, the apex, `-primary` and `-canary` Services (routing objects share the apex
 * name) and the primary autoscaler. Read from a raw (possibly invalid) Canary spec, cheaply, since
 * every tick compares a canary with each other canary of its namespace.
 */
export function claimedNames(spec: unknown): string[] {
  if (!isRecord(spec)) return [];
  const target = isRecord(spec['targetRef']) ? spec['targetRef'] : {};
  const kind = str(target['kind']);
  const name = str(target['name']);
  if (kind === undefined || name === undefined) return [];
  const service = isRecord(spec['service']) ? spec['service'] : {};
  const apex = str(service['name']) ?? name;
  const out = [`${kind}/${name}`, `${kind}/${name}-primary`];
  if (kind !== 'Service') out.push(`Service/${apex}`, `Service/${apex}-primary`, `Service/${apex}-canary`);
  const scaler = isRecord(spec['autoscalerRef']) ? spec['autoscalerRef'] : {};
  const scalerKind = str(scaler['kind']);
  const scalerName = str(scaler['name']);
  if (scalerKind !== undefined && scalerName !== undefined) out.push(`${scalerKind}/${scalerName}-primary`);
  return out;
}
