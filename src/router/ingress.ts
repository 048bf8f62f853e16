/**
 * The router of provider `nginx` (Flagger pkg/router/ingress.go IngressRouter): a copy of the
 * user's Ingress (`spec.ingressRef`), `<ingress>-canary`, whose backend `<apex>` is replaced by
 * `<apex>-canary` and whose canary annotations tell ingress-nginx how much traffic to divert:
 * `<prefix>/canary: "true"` and `<prefix>/canary-weight: "<N>"`, or for A/B `canary-by-header`
 * (+ `canary-by-header-value` / `canary-by-header-pattern`) and `canary-by-cookie`. The prefix is
 * `-ingress-annotations-prefix` (default `nginx.ingress.kubernetes.io`). The user's Ingress is never
 * written.
 *
 * Unlike Flagger, A/B conditions NGINX can't express (two headers in one match entry, which NGINX
 * would OR instead of AND, two different headers or cookies, prefix/suffix matches, query
 * parameters) are refused with an UnsupportedError instead of keeping only the last one.
 */
import { analysisOf, serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { readIngressSpec } from '../apis/networking/v1/read.ts';
import type { Ingress, IngressSpec } from '../apis/networking/v1/types.ts';
import { InvalidCanaryError, OperatorError, UnsupportedError } from '../core/errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import { keyOf } from '../kube/objects.ts';
import {
  abMatches,
  CanaryIngressRouter,
  type RoutingObjectRouterOptions,
  canaryIngressName,
  ingressCopy,
  ingressRefName,
} from './ingress-common.ts';
import type { RouterCapabilities, Weights } from './router.ts';

/** Default of `-ingress-annotations-prefix`. */
export const DEFAULT_ANNOTATIONS_PREFIX = 'nginx.ingress.kubernetes.io';

const PROVIDER = 'nginx';

/** The header name that Flagger maps to `canary-by-cookie` (its value is the cookie's name). */
const COOKIE_HEADER = 'cookie';

/** The ingress-nginx canary annotations under one prefix. */
export function canaryAnnotations(prefix: string): {
  readonly canary: string;
  readonly weight: string;
  readonly byCookie: string;
  readonly byHeader: string;
  readonly byHeaderValue: string;
  readonly byHeaderPattern: string;
} {
  return {
    canary: `${prefix}/canary`,
    weight: `${prefix}/canary-weight`,
    byCookie: `${prefix}/canary-by-cookie`,
    byHeader: `${prefix}/canary-by-header`,
    byHeaderValue: `${prefix}/canary-by-header-value`,
    byHeaderPattern: `${prefix}/canary-by-header-pattern`,
  };
}

/** What the A/B conditions become on ingress-nginx. */
export interface NginxAbRule {
  readonly header?: { readonly name: string; readonly value?: string; readonly pattern?: string };
  /** Name of the cookie whose value `always` routes to the canary. */
  readonly cookie?: string;
}

/**
 * The A/B rule of `analysis.match` (Flagger `SetRoutes`): a `cookie` header's exact value is the
 * cookie name, any other header maps to `canary-by-header` with its exact value or regex pattern.
 * Undefined without A/B matches. Throws UnsupportedError for what NGINX can't express.
 */
export function nginxAbRule(canary: Canary): NginxAbRule | undefined {
  const matches = abMatches(canary, PROVIDER, { queryParams: false });
  if (matches.length === 0) return undefined;
  let header: NginxAbRule['header'];
  let cookie: string | undefined;
  matches.forEach((m, i) => {
    const path = `spec.analysis.match[${i}].headers`;
    const entries = Object.entries(m.headers ?? {});
    const [entry] = entries;
    if (entries.length !== 1 || entry === undefined) {
      throw new UnsupportedError(
        `${path}: provider "${PROVIDER}" supports one condition per match entry (NGINX can't require two at once)`,
      );
    }
    const [name, match] = entry;
    const exact = match.exact ?? '';
    const regex = match.regex ?? '';
    if (name.toLowerCase() === COOKIE_HEADER) {
      if (exact === '')
        throw new UnsupportedError(`${path}.${name}: provider "${PROVIDER}" needs an exact cookie name`);
      if (cookie !== undefined && cookie !== exact) {
        throw new UnsupportedError(`${path}: provider "${PROVIDER}" supports only one cookie`);
      }
      cookie = exact;
      return;
    }
    if (exact === '' && regex === '') {
      throw new UnsupportedError(
        `${path}.${name}: provider "${PROVIDER}" supports only exact and regex header matches`,
      );
    }
    const next = exact !== '' ? { name, value: exact } : { name, pattern: regex };
    if (header !== undefined && JSON.stringify(header) !== JSON.stringify(next)) {
      throw new UnsupportedError(`${path}: provider "${PROVIDER}" supports only one header condition`);
    }
    header = next;
  });
  return { ...(header === undefined ? {} : { header }), ...(cookie === undefined ? {} : { cookie }) };
}

/**
 * The spec of the user's Ingress with every service backend `<apex>` pointed at `<apex>-canary`
 * (Flagger `Reconcile`). Throws InvalidCanaryError when no rule routes to `<apex>`.
 */
export function canaryIngressSpec(canary: Canary, source: KubeObject): IngressSpec {
  const names = serviceNames(canary);
  const spec = readIngressSpec(source);
  let found = false;
  const rules = spec.rules?.map((rule) => {
    if (rule.http === undefined) return rule;
    const paths = rule.http.paths.map((p) => {
      const service = p.backend.service;
      if (service?.name !== names.apex) return p;
      found = true;
      return { ...p, backend: { ...p.backend, service: { ...service, name: names.canary } } };
    });
    return { ...rule, http: { ...rule.http, paths } };
  });
  if (!found) throw new InvalidCanaryError(`backend ${names.apex} not found in Ingress ${keyOf(source)}`);
  return { ...spec, ...(rules === undefined ? {} : { rules }) };
}

/**
 * The canary annotations at `weights`: `canary: "true"` always; at weight 0 only `canary-weight:
 * "0"` (Flagger's reset); with A/B and a canary weight, the header/cookie rule (and weight 0 for
 * everyone else); otherwise `canary-weight: "<canary>"`.
 */
export function nginxCanaryAnnotations(
  prefix: string,
  weights: Weights,
  ab: NginxAbRule | undefined,
): Record<string, string> {
  const a = canaryAnnotations(prefix);
  const out: Record<string, string> = { [a.canary]: 'true' };
  if (weights.canary === 0 || ab === undefined) {
    out[a.weight] = String(weights.canary);
    return out;
  }
  out[a.weight] = '0';
  if (ab.cookie !== undefined) out[a.byCookie] = ab.cookie;
  if (ab.header !== undefined) {
    out[a.byHeader] = ab.header.name;
    if (ab.header.value !== undefined) out[a.byHeaderValue] = ab.header.value;
    if (ab.header.pattern !== undefined) out[a.byHeaderPattern] = ab.header.pattern;
  }
  return out;
}

/**
 * The canary Ingress Fledge wants at `weights` (Flagger `Reconcile` + `SetRoutes`). Pure. The
 * user's canary annotations under `prefix` are dropped so that only Fledge's decide the split.
 */
export function buildNginxCanaryIngress(canary: Canary, source: KubeObject, weights: Weights, prefix: string): Ingress {
  const ab = nginxAbRule(canary);
  return ingressCopy(canary, source, {
    name: canaryIngressName(ingressRefName(canary, PROVIDER)),
    spec: canaryIngressSpec(canary, source),
    annotations: nginxCanaryAnnotations(prefix, weights, ab),
    dropAnnotation: (k) => k.startsWith(`${prefix}/canary`),
  });
}

/**
 * The weights a canary Ingress carries (Flagger `GetRoutes`): with A/B matches, a header or cookie
 * rule means all matching traffic on the canary (0/100); otherwise `canary-weight` (absent: 0).
 * Throws an OperatorError for a weight that is not an integer in 0..100.
 */
export function nginxWeights(canary: Canary, obj: KubeObject, prefix: string): Weights {
  const a = canaryAnnotations(prefix);
  const annotations = obj.metadata.annotations ?? {};
  if ((analysisOf(canary)?.match ?? []).length > 0 && (a.byCookie in annotations || a.byHeader in annotations)) {
    return { primary: 0, canary: 100, mirrored: false };
  }
  const raw = annotations[a.weight] ?? '0';
  const weight = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(weight >= 0 && weight <= 100)) {
    throw new OperatorError(`Ingress ${keyOf(obj)}: annotation ${a.weight} is not a weight: ${JSON.stringify(raw)}`);
  }
  return { primary: 100 - weight, canary: weight, mirrored: false };
}

/** Options of {@link IngressRouter}. */
export interface IngressRouterOptions extends RoutingObjectRouterOptions {
  /** `-ingress-annotations-prefix`; default `nginx.ingress.kubernetes.io`. */
  readonly annotationsPrefix?: string | undefined;
}

/** Splits traffic with ingress-nginx canary annotations on `<ingress>-canary`. */
export class IngressRouter extends CanaryIngressRouter {
  constructor(options: IngressRouterOptions) {
    const prefix =
      options.annotationsPrefix === undefined || options.annotationsPrefix === ''
        ? DEFAULT_ANNOTATIONS_PREFIX
        : options.annotationsPrefix;
    const capabilities: RouterCapabilities = {
      weights: true,
      abTesting: true,
      mirroring: false,
      sessionAffinity: false,
    };
    super(
      {
        provider: PROVIDER,
        capabilities,
        build: (canary, source, weights) => buildNginxCanaryIngress(canary, source, weights, prefix),
        weights: (canary, obj) => nginxWeights(canary, obj, prefix),
        ownedAnnotation: (k) => k.startsWith(`${prefix}/canary`),
      },
      options,
    );
  }
}
