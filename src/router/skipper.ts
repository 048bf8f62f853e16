/**
 * The router of provider `skipper` (Flagger pkg/router/skipper.go SkipperRouter): a copy of the
 * user's Ingress (`spec.ingressRef`), `<ingress>-canary`, in which every path to `<apex>` goes to
 * `<apex>-primary` and is repeated, after the existing paths, for `<apex>-canary`. Skipper splits
 * the copy's traffic by the annotation `zalando.org/backend-weights` (`{"<apex>-canary": c,
 * "<apex>-primary": p}`), and the predicate `Weight(100)` put first in `zalando.org/skipper-predicate`
 * makes the copy win over the user's Ingress; at canary weight 0 the predicate is `False()` instead,
 * so the copy is off and the user's Ingress (apex Service → primary pods) serves everything. The
 * user's Ingress is never written; finalize deletes the copy.
 *
 * Differences from Flagger: a new copy starts disabled (`False()`, weights 100/0) where Flagger
 * starts with `Weight(100)` and 100/0, which routes the same; Reconcile keeps the current weights
 * (Flagger resets them to 100/0 when the user's Ingress changes); a user Ingress without an
 * `<apex>` backend is an InvalidCanaryError (Flagger's check never fires). A/B testing, mirroring
 * and session affinity are not supported (UnsupportedError), as in Flagger's support matrix.
 */
import { serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { readIngressSpec } from '../apis/networking/v1/read.ts';
import type { HTTPIngressPath, Ingress, IngressSpec } from '../apis/networking/v1/types.ts';
import { InvalidCanaryError, OperatorError } from '../core/errors.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject } from '../kube/objects.ts';
import { keyOf } from '../kube/objects.ts';
import {
  CanaryIngressRouter,
  type RoutingObjectRouterOptions,
  canaryIngressName,
  ingressCopy,
  ingressRefName,
} from './ingress-common.ts';
import type { Weights } from './router.ts';

/** Skipper's route predicate annotation. */
export const SKIPPER_PREDICATE_ANNOTATION = 'zalando.org/skipper-predicate';
/** Skipper's per-backend weights annotation (JSON object: service name → weight). */
export const SKIPPER_BACKEND_WEIGHTS_ANNOTATION = 'zalando.org/backend-weights';
/** Put first on the canary Ingress's routes so that they win over the user's Ingress. */
export const CANARY_ROUTE_WEIGHT = 'Weight(100)';
/** Put first on the canary Ingress's routes to turn them off. */
export const CANARY_ROUTE_DISABLE = 'False()';

const PROVIDER = 'skipper';

/**
 * `insert` followed by the predicates of `raw` (split on `&&`, trimmed), without empty ones and
 * without Fledge's own `Weight(100)` / `False()` (Flagger `insertPredicate`).
 */
export function insertPredicate(raw: string, insert: string): string {
  const rest = raw
    .split('&&')
    .map((p) => p.trim())
    .filter((p) => p !== '' && p !== CANARY_ROUTE_WEIGHT && p !== CANARY_ROUTE_DISABLE);
  return [insert, ...rest].join(' && ');
}

/**
 * The user's Ingress spec with each path to `<apex>` sent to `<apex>-primary` and a copy of it for
 * `<apex>-canary` appended to the rule's paths. Throws InvalidCanaryError when no path goes to `<apex>`.
 */
export function skipperIngressSpec(canary: Canary, source: KubeObject): IngressSpec {
  const names = serviceNames(canary);
  const spec = readIngressSpec(source);
  let found = false;
  const rules = spec.rules?.map((rule) => {
    if (rule.http === undefined) return rule;
    const primaries: HTTPIngressPath[] = [];
    const canaries: HTTPIngressPath[] = [];
    for (const p of rule.http.paths) {
      const service = p.backend.service;
      if (service?.name !== names.apex) {
        primaries.push(p);
        continue;
      }
      found = true;
      const to = (name: string): HTTPIngressPath => ({
        ...p,
        backend: { ...p.backend, service: { ...service, name } },
      });
      primaries.push(to(names.primary));
      canaries.push(to(names.canary));
    }
    return { ...rule, http: { ...rule.http, paths: [...primaries, ...canaries] } };
  });
  if (!found) throw new InvalidCanaryError(`backend ${names.apex} not found in Ingress ${keyOf(source)}`);
  return { ...spec, ...(rules === undefined ? {} : { rules }) };
}

/** `{"<apex>-canary": c, "<apex>-primary": p}`, keys sorted as Go's encoding/json writes a map. */
export function backendWeightsAnnotation(canary: Canary, weights: Weights): string {
  const names = serviceNames(canary);
  const entries: [string, number][] = [
    [names.primary, weights.primary],
    [names.canary, weights.canary],
  ];
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/** The canary Ingress Fledge wants at `weights` (Flagger `Reconcile` + `SetRoutes`). Pure. */
export function buildSkipperCanaryIngress(canary: Canary, source: KubeObject, weights: Weights): Ingress {
  const userPredicate = source.metadata.annotations?.[SKIPPER_PREDICATE_ANNOTATION] ?? '';
  return ingressCopy(canary, source, {
    name: canaryIngressName(ingressRefName(canary, PROVIDER)),
    spec: skipperIngressSpec(canary, source),
    annotations: {
      [SKIPPER_BACKEND_WEIGHTS_ANNOTATION]: backendWeightsAnnotation(canary, weights),
      [SKIPPER_PREDICATE_ANNOTATION]: insertPredicate(
        userPredicate,
        weights.canary === 0 ? CANARY_ROUTE_DISABLE : CANARY_ROUTE_WEIGHT,
      ),
    },
    dropAnnotation: () => false,
  });
}

/**
 * The weights in a canary Ingress's `zalando.org/backend-weights` (Flagger `GetRoutes`). Throws an
 * OperatorError when the annotation is missing, not JSON, or lacks an integer weight for the
 * primary or the canary.
 */
export function skipperWeights(canary: Canary, obj: KubeObject): Weights {
  const names = serviceNames(canary);
  const raw = obj.metadata.annotations?.[SKIPPER_BACKEND_WEIGHTS_ANNOTATION];
  const fail = (why: string): OperatorError =>
    new OperatorError(`Ingress ${keyOf(obj)}: annotation ${SKIPPER_BACKEND_WEIGHTS_ANNOTATION} ${why}`);
  if (raw === undefined) throw fail('is missing');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new OperatorError(`Ingress ${keyOf(obj)}: annotation ${SKIPPER_BACKEND_WEIGHTS_ANNOTATION} is not JSON`, {
      cause: e,
    });
  }
  if (!isRecord(parsed)) throw fail('is not a JSON object');
  const weight = (name: string): number => {
    const w = parsed[name];
    if (typeof w !== 'number' || !Number.isInteger(w)) throw fail(`has no integer weight for ${name}`);
    return w;
  };
  return { primary: weight(names.primary), canary: weight(names.canary), mirrored: false };
}

/** Splits traffic with Skipper's backend weights on `<ingress>-canary`. */
export class SkipperRouter extends CanaryIngressRouter {
  constructor(options: RoutingObjectRouterOptions) {
    super(
      {
        provider: PROVIDER,
        capabilities: { weights: true, abTesting: false, mirroring: false, sessionAffinity: false },
        build: buildSkipperCanaryIngress,
        weights: skipperWeights,
      },
      options,
    );
  }
}
