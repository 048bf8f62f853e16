/**
 * ConfigMap/Secret tracking (Flagger pkg/canary/config_tracker.go, `-enable-config-tracking`):
 * the configs a pod template references are part of its revision, and the primary runs on
 * `<name>-primary` copies that change only at promotion. Finding, checksumming and copying are pure;
 * {@link ConfigTracker} adds the cache reads and the writes.
 */
import { CONFIG_TRACKING_ANNOTATION } from '../apis/flagger/v1beta1/types.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import { NotFoundError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { applyIfChanged, cachedObject } from './apply.ts';
import { memoFrozen, shortHash } from './hash.ts';
import {
  type JsonObject,
  asArray,
  asRecord,
  asStringMap,
  canaryOwnerRef,
  dotted,
  filterAnnotations,
  filterMetadata,
  podSpecOf,
  primaryName,
} from './util.ts';

/** The kinds of config Fledge tracks, as they appear in `status.trackedConfigs` keys. */
export type ConfigKind = 'configmap' | 'secret';

/** A reference from a pod spec to a ConfigMap or Secret. */
export interface ConfigRef {
  readonly kind: ConfigKind;
  readonly name: string;
  /** True only when every reference to the object is marked `optional: true`. */
  readonly optional: boolean;
}

/** A config that is part of the revision: its checksum and the cached object. */
export interface TrackedConfig {
  /** `configmap/<name>` or `secret/<name>` (the key of `status.trackedConfigs`). */
  readonly key: string;
  readonly kind: ConfigKind;
  readonly name: string;
  readonly checksum: string;
  readonly source: KubeObject;
}

/** Tracked configs by key. */
export type TrackedConfigs = ReadonlyMap<string, TrackedConfig>;

/** A non-optional config reference points at nothing; retried on the next tick. */
export class ConfigNotFoundError extends NotFoundError {}

/** Secret types whose data is application config; registry credentials and tokens are not tracked. */
export const TRACKED_SECRET_TYPES: readonly string[] = [
  '',
  'Opaque',
  'kubernetes.io/basic-auth',
  'kubernetes.io/ssh-auth',
  'kubernetes.io/tls',
];

/** `configmap/<name>` / `secret/<name>`. */
export function configKey(kind: ConfigKind, name: string): string {
  return `${kind}/${name}`;
}

/** True when the object opts out with `flagger.app/config-tracking: disable…`. */
export function isTrackingDisabled(obj: KubeObject): boolean {
  return (obj.metadata.annotations?.[CONFIG_TRACKING_ANNOTATION] ?? '').startsWith('disable');
}

/** True for the Secret types Flagger tracks (Opaque, basic-auth, ssh-auth, tls; empty = Opaque). */
export function isTrackedSecretType(type: unknown): boolean {
  return type === undefined || (typeof type === 'string' && TRACKED_SECRET_TYPES.includes(type));
}

/**
 * Checksum of a config's content: the first 16 hex characters of sha256 over the canonical JSON of
 * `data` — the same value as Flagger's for ConfigMaps without `binaryData` and for Secrets. A
 * ConfigMap's `binaryData` and a Secret's `stringData` (write-only; seen only in fakes) are
 * included when present.
 */
export function configChecksum(obj: KubeObject): string {
  return memoFrozen(obj, 'config', () => computeConfigChecksum(obj));
}

function computeConfigChecksum(obj: KubeObject): string {
  const data = asRecord(obj['data']);
  if (obj.kind === 'Secret') {
    const stringData = asStringMap(obj['stringData']);
    if (Object.keys(stringData).length === 0) return shortHash(data ?? null);
    const merged: Record<string, unknown> = { ...data };
    for (const [k, v] of Object.entries(stringData)) merged[k] = Buffer.from(v, 'utf8').toString('base64');
    return shortHash(merged);
  }
  const binaryData = asRecord(obj['binaryData']);
  if (binaryData === undefined) return shortHash(data ?? null);
  return shortHash({ data: data ?? null, binaryData });
}

interface RefSite {
  readonly kind: ConfigKind;
  /** The object holding the name, and the name's property. */
  readonly holder: JsonObject;
  readonly field: 'name' | 'secretName';
}

/** Every place in a pod spec that names a ConfigMap or Secret. */
function refSites(podSpec: JsonObject): RefSite[] {
  const sites: RefSite[] = [];
  const add = (kind: ConfigKind, holder: unknown, field: RefSite['field'] = 'name'): void => {
    const h = asRecord(holder);
    if (h && typeof h[field] === 'string' && h[field] !== '') sites.push({ kind, holder: h, field });
  };
  for (const volume of asArray(podSpec['volumes'])) {
    const v = asRecord(volume);
    if (!v) continue;
    add('configmap', v['configMap']);
    add('secret', v['secret'], 'secretName');
    for (const source of asArray(asRecord(v['projected'])?.['sources'])) {
      const s = asRecord(source);
      add('configmap', s?.['configMap']);
      add('secret', s?.['secret']);
    }
  }
  for (const container of [...asArray(podSpec['containers']), ...asArray(podSpec['initContainers'])]) {
    const c = asRecord(container);
    if (!c) continue;
    for (const env of asArray(c['env'])) {
      const from = asRecord(asRecord(env)?.['valueFrom']);
      add('configmap', from?.['configMapKeyRef']);
      add('secret', from?.['secretKeyRef']);
    }
    for (const envFrom of asArray(c['envFrom'])) {
      const e = asRecord(envFrom);
      add('configmap', e?.['configMapRef']);
      add('secret', e?.['secretRef']);
    }
  }
  return sites;
}

/**
 * The ConfigMaps and Secrets a pod spec references through volumes (plain and projected) and the
 * `env`/`envFrom` of containers and init containers; one entry per object, sorted by key.
 */
export function findConfigRefs(podSpec: unknown): ConfigRef[] {
  const refs = new Map<string, ConfigRef>();
  for (const site of refSites(asRecord(podSpec) ?? {})) {
    const name = site.holder[site.field] as string;
    const optional = site.holder['optional'] === true;
    const key = configKey(site.kind, name);
    const seen = refs.get(key);
    refs.set(key, { kind: site.kind, name, optional: (seen?.optional ?? true) && optional });
  }
  return [...refs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref);
}

/**
 * A copy of `podSpec` whose references to the tracked configs (`keys`: `configmap/<name>`…) point
 * at their `-primary` copies; other references are left alone. The input is not modified.
 */
export function rewriteConfigRefs(podSpec: unknown, keys: ReadonlySet<string>): JsonObject {
  const spec = structuredClone(asRecord(podSpec) ?? {});
  for (const site of refSites(spec)) {
    const name = site.holder[site.field] as string;
    if (keys.has(configKey(site.kind, name))) site.holder[site.field] = primaryName(name);
  }
  return spec;
}

/** Looks up a config by kind and name (from a cache). */
export type ConfigLookup = (kind: ConfigKind, name: string) => KubeObject | undefined;

/**
 * Resolves references to tracked configs. Skipped: objects annotated
 * `flagger.app/config-tracking: disabled`, Secrets of untracked types, and missing objects whose
 * references are all optional (logged). A missing non-optional object throws ConfigNotFoundError.
 */
export function resolveConfigs(
  refs: readonly ConfigRef[],
  lookup: ConfigLookup,
  ctx: { readonly log: Ctx['log']; readonly namespace: string },
): TrackedConfigs {
  const out = new Map<string, TrackedConfig>();
  for (const ref of refs) {
    const obj = lookup(ref.kind, ref.name);
    const where = dotted(ref.name, ctx.namespace);
    if (obj === undefined) {
      if (!ref.optional) throw new ConfigNotFoundError(`${ref.kind} ${where} not found`, 404, 'NotFound');
      ctx.log.info(`optional ${ref.kind} ${where} not found, not tracked`, { config: ref.name });
      continue;
    }
    if (isTrackingDisabled(obj)) {
      ctx.log.debug(`${ref.kind} ${where} has config tracking disabled`, { config: ref.name });
      continue;
    }
    if (ref.kind === 'secret' && !isTrackedSecretType(obj['type'])) {
      ctx.log.debug(`ignoring secret ${where}: type ${String(obj['type'])} is not tracked`, { config: ref.name });
      continue;
    }
    const key = configKey(ref.kind, ref.name);
    out.set(key, { key, kind: ref.kind, name: ref.name, checksum: configChecksum(obj), source: obj });
  }
  return out;
}

/** `configmap/<name>` → checksum, sorted by key (the value of `status.trackedConfigs`). */
export function checksumsOf(configs: TrackedConfigs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of [...configs.keys()].sort()) out[key] = (configs.get(key) as TrackedConfig).checksum;
  return out;
}

/**
 * The `<name>-primary` copy of a tracked ConfigMap or Secret as an apply intent: labels and
 * annotations copied (minus Flux's and kubectl's bookkeeping), data copied, owned by the Canary.
 */
export function buildPrimaryConfig(canary: Canary, source: KubeObject): KubeObject {
  const labels = filterMetadata(source.metadata.labels);
  const annotations = filterAnnotations(source.metadata.annotations);
  const out: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: source.kind,
    metadata: {
      name: primaryName(source.metadata.name),
      namespace: canary.metadata.namespace ?? source.metadata.namespace ?? '',
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [canaryOwnerRef(canary)],
    },
  };
  const fields = source.kind === 'Secret' ? ['type', 'data', 'stringData'] : ['data', 'binaryData'];
  for (const f of fields) if (source[f] !== undefined) out[f] = structuredClone(source[f]);
  return out as unknown as KubeObject;
}

/** Options of {@link ConfigTracker}. */
export interface ConfigTrackerOptions {
  readonly kube: KubeClient;
  /** `-enable-config-tracking` (Flagger default true); when false nothing is tracked or copied. */
  readonly enabled: boolean;
}

/** Reads tracked configs from the informer caches and keeps their `-primary` copies. */
export class ConfigTracker {
  readonly #kube: KubeClient;
  readonly #enabled: boolean;

  constructor(options: ConfigTrackerOptions) {
    this.#kube = options.kube;
    this.#enabled = options.enabled;
  }

  /** The tracked configs of a workload (empty when tracking is off). Throws ConfigNotFoundError. */
  configs(ctx: Ctx, canary: Canary, workload: KubeObject): TrackedConfigs {
    if (!this.#enabled) return new Map();
    const namespace = canary.metadata.namespace ?? '';
    return resolveConfigs(findConfigRefs(podSpecOf(workload)), (kind, name) => this.#cached(kind, namespace, name), {
      log: ctx.log,
      namespace,
    });
  }

  /** Creates or updates the `-primary` copy of every config, skipping those already up to date. */
  async syncPrimaryCopies(ctx: Ctx, canary: Canary, configs: TrackedConfigs): Promise<void> {
    for (const config of configs.values()) await this.#applyCopy(ctx, canary, config);
  }

  /**
   * Recreates the `-primary` copies that `primary` references but that no longer exist (from the
   * current data: better than pods that cannot start). Existing copies are left as promoted.
   */
  async restoreMissingCopies(ctx: Ctx, canary: Canary, primary: KubeObject, configs: TrackedConfigs): Promise<void> {
    const namespace = canary.metadata.namespace ?? '';
    for (const ref of findConfigRefs(podSpecOf(primary))) {
      const config = [...configs.values()].find((c) => c.kind === ref.kind && primaryName(c.name) === ref.name);
      if (config === undefined || this.#cached(ref.kind, namespace, ref.name) !== undefined) continue;
      ctx.log.warn(`${ref.kind} ${dotted(ref.name, namespace)} is missing, recreating it`, { config: ref.name });
      await this.#applyCopy(ctx, canary, config);
    }
  }

  async #applyCopy(ctx: Ctx, canary: Canary, config: TrackedConfig): Promise<void> {
    const namespace = canary.metadata.namespace ?? '';
    const desired = buildPrimaryConfig(canary, config.source);
    const cached = this.#cached(config.kind, namespace, desired.metadata.name);
    const applied = await applyIfChanged(this.#kube, desired, cached);
    if (applied) {
      ctx.log.info(`${config.source.kind} ${dotted(desired.metadata.name, namespace)} synced`, {
        object: desired.metadata.name,
      });
    }
  }

  #cached(kind: ConfigKind, namespace: string, name: string): KubeObject | undefined {
    return cachedObject(this.#kube, kind === 'configmap' ? Resources.configMap : Resources.secret, { namespace, name });
  }
}
