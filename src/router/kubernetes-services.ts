/**
 * The apex, `-primary` and `-canary` ClusterIP Services of a canary (Flagger's
 * pkg/router/kubernetes_default.go KubernetesDefaultRouter).
 *
 * Reads come from the Service informer of the canary's namespace; a write happens only when the
 * desired state differs from the cached one. Services Fledge created (controlled by the Canary) are
 * written with server-side apply. An apex Service the user created is taken over: only its ports
 * and selector are changed (plus the Flux opt-out annotations), with a conditional merge patch, and
 * what was there before is kept in an annotation so that `finalize` can point it back at the
 * target's pods.
 */
import { serviceNames, servicePortName, serviceTargetPort } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, CanaryService, CustomMetadata } from '../apis/flagger/v1beta1/types.ts';
import {
  LAST_APPLIED_CONFIGURATION_ANNOTATION,
  ORIGINAL_CONFIGURATION_ANNOTATION,
} from '../apis/flagger/v1beta1/types.ts';
import type { TargetMetadata } from '../canary/target.ts';
import type { Ctx } from '../core/context.ts';
import { InvalidCanaryError } from '../core/errors.ts';
import { isRecord, jsonEqual } from '../kube/json.ts';
import type { KubeObject, ObjectKey, ObjectMeta } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import type { ServiceRouter } from './router.ts';
import {
  CachedReader,
  canaryControllerOf,
  controllerRef,
  isSubset,
  metadataUpToDate,
  toolkitAnnotations,
} from './util.ts';

/** A core/v1 ServicePort as Fledge writes it. */
export interface ServicePort {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number | string;
  readonly protocol: string;
  readonly appProtocol?: string;
  readonly nodePort?: number;
}

/** The part of a core/v1 ServiceSpec Fledge writes. */
export interface ServiceSpec {
  readonly type: string;
  readonly clusterIP?: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly ports: readonly ServicePort[];
  readonly trafficDistribution?: string;
}

/** A core/v1 Service as Fledge writes it. */
export type Service = {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: ObjectMeta & {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  };
  readonly spec: ServiceSpec;
};

/** Inputs of {@link buildService} besides the Canary. */
export interface ServiceInput {
  /** Service name: the apex, `-primary` or `-canary` name of `serviceNames()`. */
  readonly name: string;
  /** Pod selector: `{<labelKey>: <labelValue>}` or `{<labelKey>: <labelValue>-primary}`. */
  readonly selector: Readonly<Record<string, string>>;
  /** `service.apex`, `service.primary` or `service.canary`. */
  readonly metadata: CustomMetadata | undefined;
  /** Ports discovered on the target's containers (used when `service.portDiscovery` is set). */
  readonly ports: Readonly<Record<string, number>>;
  /** The target's selector label key; every Service gets the label `<labelKey>: <name>`. */
  readonly labelKey: string;
}

/** The `spec.service` of a canary; every router that generates Services needs it. */
export function canaryService(canary: Canary): CanaryService {
  const service = canary.spec.service;
  if (service === undefined) throw new InvalidCanaryError('spec.service is required');
  return service;
}

/**
 * The Service Fledge wants for `input.name` (Flagger `reconcileService`): ClusterIP (headless with
 * `service.headless`), the main port `{portName|http, port, targetPort|port, TCP, appProtocol}`,
 * `trafficDistribution`, the discovered ports (sorted by port) and the selector; labels and
 * annotations from `input.metadata` plus `<labelKey>: <name>` and the Flux opt-out annotations; a
 * controller reference to the Canary. Pure.
 */
export function buildService(canary: Canary, input: ServiceInput): Service {
  const service = canaryService(canary);
  const mainName = servicePortName(canary);
  const main: ServicePort = {
    name: mainName,
    port: service.port,
    targetPort: serviceTargetPort(canary) ?? service.port,
    protocol: 'TCP',
    ...(service.appProtocol ? { appProtocol: service.appProtocol } : {}),
  };
  const discovered: ServicePort[] =
    service.portDiscovery === true
      ? Object.entries(input.ports)
          // The target controller leaves the main port out; a clash would make the Service invalid.
          .filter(([name, port]) => name !== mainName && port !== service.port)
          .sort(([an, ap], [bn, bp]) => ap - bp || an.localeCompare(bn))
          .map(([name, port]) => ({ name, port, targetPort: port, protocol: 'TCP' }))
      : [];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: input.name,
      namespace: namespaceOf(canary),
      labels: { ...input.metadata?.labels, [input.labelKey]: input.name },
      annotations: { ...input.metadata?.annotations, ...toolkitAnnotations },
      ownerReferences: [controllerRef(canary)],
    },
    spec: {
      type: 'ClusterIP',
      ...(service.headless === true ? { clusterIP: 'None' } : {}),
      selector: { ...input.selector },
      ports: [main, ...discovered],
      ...(service.trafficDistribution ? { trafficDistribution: service.trafficDistribution } : {}),
    },
  };
}

/** The fields of an existing Service Fledge compares, narrowed from the cached object. */
interface ExistingSpec {
  readonly type: string | undefined;
  readonly clusterIP: string | undefined;
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePort[];
  readonly trafficDistribution: string | undefined;
}

function stringMap(u: unknown): Readonly<Record<string, string>> | undefined {
  if (!isRecord(u)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(u)) if (typeof v === 'string') out[k] = v;
  return out;
}

const str = (u: unknown): string | undefined => (typeof u === 'string' ? u : undefined);

function readPorts(u: unknown): ServicePort[] {
  if (!Array.isArray(u)) return [];
  return u.filter(isRecord).map((p) => {
    const port = typeof p['port'] === 'number' ? p['port'] : 0;
    const target = p['targetPort'];
    const appProtocol = str(p['appProtocol']);
    const nodePort = p['nodePort'];
    return {
      name: str(p['name']) ?? '',
      port,
      targetPort: typeof target === 'number' || typeof target === 'string' ? target : port,
      protocol: str(p['protocol']) ?? 'TCP',
      ...(appProtocol === undefined ? {} : { appProtocol }),
      ...(typeof nodePort === 'number' && nodePort > 0 ? { nodePort } : {}),
    };
  });
}

function readSpec(obj: KubeObject): ExistingSpec {
  const spec = isRecord(obj['spec']) ? obj['spec'] : {};
  return {
    type: str(spec['type']),
    clusterIP: str(spec['clusterIP']),
    selector: stringMap(spec['selector']),
    ports: readPorts(spec['ports']),
    trafficDistribution: str(spec['trafficDistribution']),
  };
}

/** Ports in a canonical order and shape, so that equal port sets compare equal. */
function canonicalPorts(ports: readonly ServicePort[]): ServicePort[] {
  return [...ports]
    .map((p) => ({ ...p }))
    .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol) || a.name.localeCompare(b.name));
}

/** `ports` with the node ports of same-named ports of the existing Service (Flagger keeps them). */
function withNodePorts(ports: readonly ServicePort[], existing: readonly ServicePort[]): ServicePort[] {
  return ports.map((p) => {
    const nodePort = existing.find((e) => e.name === p.name)?.nodePort;
    return nodePort === undefined ? p : { ...p, nodePort };
  });
}

/** A merge patch turning selector `from` into `to` (keys only in `from` become null). */
function selectorPatch(
  from: Readonly<Record<string, string>> | undefined,
  to: Readonly<Record<string, string>>,
): Record<string, string | null> {
  const patch: Record<string, string | null> = { ...to };
  for (const k of Object.keys(from ?? {})) if (!(k in to)) patch[k] = null;
  return patch;
}

/**
 * What a taken-over Service looked like before Fledge changed it, kept as JSON in the
 * `flagger.kubernetes.io/original-configuration` annotation: its selector (absent when it already
 * selected the primary) and the previous values of the annotations Fledge added (null: absent).
 */
export interface OriginalServiceConfig {
  readonly spec?: { readonly selector?: Readonly<Record<string, string>> };
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string | null>> };
}

function parseOriginal(text: string | undefined): OriginalServiceConfig | undefined {
  if (text === undefined) return undefined;
  try {
    const u: unknown = JSON.parse(text);
    if (!isRecord(u)) return undefined;
    const spec = isRecord(u['spec']) ? u['spec'] : {};
    const meta = isRecord(u['metadata']) ? u['metadata'] : {};
    const selector = stringMap(spec['selector']);
    const annotations: Record<string, string | null> = {};
    if (isRecord(meta['annotations'])) {
      for (const [k, v] of Object.entries(meta['annotations'])) {
        if (typeof v === 'string' || v === null) annotations[k] = v;
      }
    }
    return { ...(selector ? { spec: { selector } } : {}), metadata: { annotations } };
  } catch {
    return undefined;
  }
}

/** The selector of kubectl's last-applied configuration, if the Service has a readable one. */
function lastAppliedSelector(obj: KubeObject): Readonly<Record<string, string>> | undefined {
  const text = obj.metadata.annotations?.[LAST_APPLIED_CONFIGURATION_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const u: unknown = JSON.parse(text);
    const spec = isRecord(u) ? u['spec'] : undefined;
    return isRecord(spec) ? stringMap(spec['selector']) : undefined;
  } catch {
    return undefined;
  }
}

function namespaceOf(canary: Canary): string {
  const namespace = canary.metadata.namespace;
  if (namespace === undefined || namespace === '') {
    throw new InvalidCanaryError(`Canary ${canary.metadata.name} has no namespace`);
  }
  return namespace;
}

/** Options of {@link KubernetesServiceRouter}. */
export interface KubernetesServiceRouterOptions {
  readonly kube: KubeClient;
  /** The target's selector label and discovered ports (the TargetController's `metadata`). */
  readonly metadata: (ctx: Ctx, canary: Canary) => TargetMetadata;
  /** Shared by the routers of one operator so that a write is seen by the next read at once. */
  readonly reader?: CachedReader;
}

/** Which Service of the three, with what it selects and which metadata it carries. */
interface ServiceRole {
  readonly name: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly metadata: CustomMetadata | undefined;
}

/** Manages the ClusterIP Services of Deployment and DaemonSet targets (Flagger's KubernetesDefaultRouter). */
export class KubernetesServiceRouter implements ServiceRouter {
  readonly #kube: KubeClient;
  readonly #metadata: (ctx: Ctx, canary: Canary) => TargetMetadata;
  readonly #reader: CachedReader;

  constructor(options: KubernetesServiceRouterOptions) {
    this.#kube = options.kube;
    this.#metadata = options.metadata;
    this.#reader = options.reader ?? new CachedReader(options.kube);
  }

  /** Creates or updates `<apex>-canary` (selecting the target's pods) and `<apex>-primary`. */
  async initialize(ctx: Ctx, canary: Canary): Promise<void> {
    const service = canaryService(canary);
    const target = this.#metadata(ctx, canary);
    const names = serviceNames(canary);
    const { labelKey, labelValue } = target;
    await this.#reconcile(ctx, canary, target, {
      name: names.canary,
      selector: { [labelKey]: labelValue },
      metadata: service.canary,
    });
    await this.#reconcile(ctx, canary, target, {
      name: names.primary,
      selector: { [labelKey]: `${labelValue}-primary` },
      metadata: service.primary,
    });
  }

  /** Creates, updates or takes over the apex Service so that it selects the primary pods. */
  async reconcile(ctx: Ctx, canary: Canary): Promise<void> {
    const service = canaryService(canary);
    const target = this.#metadata(ctx, canary);
    await this.#reconcile(ctx, canary, target, {
      name: serviceNames(canary).apex,
      selector: { [target.labelKey]: `${target.labelValue}-primary` },
      metadata: service.apex,
    });
  }

  /**
   * revertOnDeletion: points an apex Service Fledge took over back at the target's pods (the
   * selector of kubectl's last-applied configuration, else the one Fledge recorded at takeover,
   * else `{<labelKey>: <labelValue>}`) and removes what Fledge added to its annotations. A Service
   * controlled by a Canary is left to garbage collection.
   */
  async finalize(ctx: Ctx, canary: Canary): Promise<void> {
    const key = { namespace: namespaceOf(canary), name: serviceNames(canary).apex };
    const existing = await this.#reader.get(ctx, Resources.service, key);
    if (existing === undefined || canaryControllerOf(existing) !== undefined) return;
    const annotations = existing.metadata.annotations ?? {};
    const recorded = annotations[ORIGINAL_CONFIGURATION_ANNOTATION] !== undefined;
    const original = parseOriginal(annotations[ORIGINAL_CONFIGURATION_ANNOTATION]);
    if (recorded && original === undefined) {
      ctx.log.warn('unreadable original-configuration annotation; reverting to the default selector', {
        object: key.name,
      });
    }
    const current = readSpec(existing).selector;
    let selector = lastAppliedSelector(existing) ?? original?.spec?.selector;
    if (!recorded || selector === undefined) {
      const target = this.#metadata(ctx, canary);
      // Without a takeover record (taken over by Flagger, or reverted already) only a selector
      // that still points at the primary is reverted, so that finalize is idempotent.
      if (!recorded && current?.[target.labelKey] !== `${target.labelValue}-primary`) return;
      selector ??= { [target.labelKey]: target.labelValue };
    }
    const annotationPatch: Record<string, string | null> = { ...original?.metadata?.annotations };
    if (recorded) annotationPatch[ORIGINAL_CONFIGURATION_ANNOTATION] = null;
    const annotationsChange = Object.entries(annotationPatch).some(([k, v]) => (annotations[k] ?? null) !== v);
    if (jsonEqual(current ?? {}, selector) && !annotationsChange) return;
    const written = await this.#kube.mergePatch(Resources.service, key, {
      metadata: {
        ...(existing.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
        ...(annotationsChange ? { annotations: annotationPatch } : {}),
      },
      spec: { selector: selectorPatch(current, selector) },
    });
    this.#reader.wrote(Resources.service, existing, written);
    ctx.log.info('Service selector reverted', { object: key.name, selector });
  }

  async #reconcile(ctx: Ctx, canary: Canary, target: TargetMetadata, role: ServiceRole): Promise<void> {
    const desired = buildService(canary, {
      name: role.name,
      selector: role.selector,
      metadata: role.metadata,
      ports: target.ports,
      labelKey: target.labelKey,
    });
    const key: ObjectKey = { namespace: desired.metadata.namespace, name: desired.metadata.name };
    const existing = await this.#reader.get(ctx, Resources.service, key);
    if (existing === undefined) {
      const unmanaged = canary.spec.service?.unmanagedMetadata;
      const fresh: Service = {
        ...desired,
        metadata: {
          ...desired.metadata,
          labels: keepUnmanaged(desired.metadata.labels, undefined, unmanaged?.labels),
          annotations: keepUnmanaged(desired.metadata.annotations, undefined, unmanaged?.annotations),
        },
      };
      const written = await this.#kube.apply(fresh);
      this.#reader.wrote(Resources.service, existing, written);
      ctx.log.info('Service created', { object: role.name });
      return;
    }
    const controller = canaryControllerOf(existing);
    if (controller === undefined) return this.#takeOver(ctx, canary, existing, desired);
    if (controller.name !== canary.metadata.name) {
      throw new InvalidCanaryError(
        `Service ${key.namespace}/${key.name} is controlled by Canary ${controller.name}`,
        'ServiceConflict',
      );
    }
    return this.#update(ctx, canary, existing, desired);
  }

  /** A Service this Canary controls: server-side apply of the full desired state, when it differs. */
  async #update(ctx: Ctx, canary: Canary, existing: KubeObject, desired: Service): Promise<void> {
    const spec = readSpec(existing);
    const headless = desired.spec.clusterIP === 'None';
    if (headless !== (spec.clusterIP === 'None')) {
      ctx.log.warn('service.headless differs from the existing Service; the cluster IP is immutable', {
        object: desired.metadata.name,
        headless,
      });
    }
    const unmanaged = canary.spec.service?.unmanagedMetadata;
    const want: Service = {
      ...desired,
      metadata: {
        ...desired.metadata,
        labels: keepUnmanaged(desired.metadata.labels, existing.metadata.labels, unmanaged?.labels),
        annotations: keepUnmanaged(desired.metadata.annotations, existing.metadata.annotations, unmanaged?.annotations),
      },
      spec: {
        // Neither the type nor the cluster IP of an existing Service is changed (as Flagger).
        type: spec.type ?? desired.spec.type,
        ...(spec.clusterIP === 'None' ? { clusterIP: 'None' } : {}),
        selector: desired.spec.selector,
        ports: withNodePorts(desired.spec.ports, spec.ports),
        ...(desired.spec.trafficDistribution ? { trafficDistribution: desired.spec.trafficDistribution } : {}),
      },
    };
    const upToDate =
      metadataUpToDate(existing, {
        labels: want.metadata.labels,
        annotations: want.metadata.annotations,
        ownerReferences: want.metadata.ownerReferences ?? [],
      }) &&
      spec.type === want.spec.type &&
      jsonEqual(spec.selector ?? {}, want.spec.selector) &&
      jsonEqual(canonicalPorts(spec.ports), canonicalPorts(want.spec.ports)) &&
      spec.trafficDistribution === want.spec.trafficDistribution;
    if (upToDate) return;
    const written = await this.#kube.apply(want);
    this.#reader.wrote(Resources.service, existing, written);
    ctx.log.info('Service updated', { object: desired.metadata.name });
  }

  /**
   * A Service Fledge did not create: set its ports (keeping node ports) and selector, and add the
   * Flux opt-out annotations, with a merge patch conditional on the cached resourceVersion. Its
   * type, cluster IP, labels and other annotations stay. The first takeover records the previous
   * selector and annotation values for `finalize`.
   */
  async #takeOver(ctx: Ctx, canary: Canary, existing: KubeObject, desired: Service): Promise<void> {
    const spec = readSpec(existing);
    const annotations = existing.metadata.annotations ?? {};
    const unmanaged = new Set(canary.spec.service?.unmanagedMetadata?.annotations ?? []);
    const toolkit = Object.fromEntries(Object.entries(toolkitAnnotations).filter(([k]) => !unmanaged.has(k)));
    const ports = withNodePorts(desired.spec.ports, spec.ports);
    const selectorOk = jsonEqual(spec.selector ?? {}, desired.spec.selector);
    const portsOk = jsonEqual(canonicalPorts(spec.ports), canonicalPorts(ports));
    if (selectorOk && portsOk && isSubset(toolkit, annotations)) return;

    const annotationPatch: Record<string, string> = { ...toolkit };
    if (annotations[ORIGINAL_CONFIGURATION_ANNOTATION] === undefined) {
      const previous = Object.fromEntries(Object.keys(toolkit).map((k) => [k, annotations[k] ?? null]));
      const original: OriginalServiceConfig = {
        ...(selectorOk || spec.selector === undefined ? {} : { spec: { selector: spec.selector } }),
        metadata: { annotations: previous },
      };
      annotationPatch[ORIGINAL_CONFIGURATION_ANNOTATION] = JSON.stringify(original);
    }
    const written = await this.#kube.mergePatch(
      Resources.service,
      { namespace: desired.metadata.namespace, name: desired.metadata.name },
      {
        metadata: {
          ...(existing.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
          annotations: annotationPatch,
        },
        spec: { ports, selector: selectorPatch(spec.selector, desired.spec.selector) },
      },
    );
    this.#reader.wrote(Resources.service, existing, written);
    ctx.log.info('Service taken over', { object: desired.metadata.name });
  }
}

/**
 * `desired` without the unmanaged keys, plus their current values on the existing object: Fledge
 * neither adds, changes nor removes them.
 */
function keepUnmanaged(
  desired: Readonly<Record<string, string>>,
  existing: Readonly<Record<string, string>> | undefined,
  unmanaged: readonly string[] | undefined,
): Record<string, string> {
  const out: Record<string, string> = { ...desired };
  for (const k of unmanaged ?? []) {
    delete out[k];
    const v = existing?.[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The Services of a `Service` target are the target itself: nothing to generate (Flagger's KubernetesNoopRouter). */
export class NopServiceRouter implements ServiceRouter {
  initialize(_ctx: Ctx, _canary: Canary): Promise<void> {
    return Promise.resolve();
  }
  reconcile(_ctx: Ctx, _canary: Canary): Promise<void> {
    return Promise.resolve();
  }
  finalize(_ctx: Ctx, _canary: Canary): Promise<void> {
    return Promise.resolve();
  }
}
