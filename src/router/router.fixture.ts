/** Test builders shared by the router tests (cf. Flagger pkg/router/router_test.go). */
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import type { Canary, CanaryAnalysis, CanaryService, CanaryStatus, TargetKind } from '../apis/flagger/v1beta1/types.ts';
import type { TargetMetadata } from '../canary/target.ts';
import type { Ctx } from '../core/context.ts';
import type { KubeObject, ObjectKey, ResourceType } from '../kube/objects.ts';
import type { Informer, KubeClient } from '../kube/port.ts';
import type { Fields, Logger } from '../log/logger.ts';

export const NS = 'test';
export const CANARY_UID = '11111111-2222-4333-8444-555555555555';

/** A logger that keeps every line, for asserting warnings. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; msg: string; fields: Fields }[];
  readonly #base: Fields;

  constructor(lines: { level: string; msg: string; fields: Fields }[] = [], base: Fields = {}) {
    this.lines = lines;
    this.#base = base;
  }
  debug(msg: string, fields: Fields = {}): void {
    this.lines.push({ level: 'debug', msg, fields: { ...this.#base, ...fields } });
  }
  info(msg: string, fields: Fields = {}): void {
    this.lines.push({ level: 'info', msg, fields: { ...this.#base, ...fields } });
  }
  warn(msg: string, fields: Fields = {}): void {
    this.lines.push({ level: 'warn', msg, fields: { ...this.#base, ...fields } });
  }
  error(msg: string, fields: Fields = {}): void {
    this.lines.push({ level: 'error', msg, fields: { ...this.#base, ...fields } });
  }
  child(fields: Fields): Logger {
    return new RecordingLogger(this.lines, { ...this.#base, ...fields });
  }
}

export function newCtx(log: Logger = new RecordingLogger()): Ctx {
  return { signal: new AbortController().signal, log };
}

export interface CanaryOptions {
  readonly service?: Partial<CanaryService>;
  /** Replaces the default canary analysis ({@link canaryAnalysis}). */
  readonly analysis?: CanaryAnalysis;
  readonly status?: CanaryStatus;
  readonly targetKind?: TargetKind;
  readonly provider?: string;
}

/**
 * The podinfo Canary (Deployment target, port 9898, Gateway `gateway` in `istio-ingress`), passed
 * through `parseCanary` so that every fixture is a Canary the API server would accept.
 */
export function newCanary(o: CanaryOptions = {}): Canary {
  return parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: NS, uid: CANARY_UID, generation: 1 },
    spec: {
      ...(o.provider === undefined ? {} : { provider: o.provider }),
      targetRef: { apiVersion: 'apps/v1', kind: o.targetKind ?? 'Deployment', name: 'podinfo' },
      service: { port: 9898, gatewayRefs: [{ name: 'gateway', namespace: 'istio-ingress' }], ...o.service },
      analysis: o.analysis ?? canaryAnalysis,
    },
    ...(o.status === undefined ? {} : { status: o.status }),
  });
}

/** A progressive canary analysis. */
export const canaryAnalysis: CanaryAnalysis = { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 };

/** A Blue/Green analysis: iterations instead of weights. */
export const blueGreenAnalysis: CanaryAnalysis = { interval: '1m', threshold: 5, iterations: 10 };

/** An A/B analysis: iterations and match conditions. */
export function abAnalysis(match: NonNullable<CanaryAnalysis['match']>): CanaryAnalysis {
  return { ...blueGreenAnalysis, match };
}

/** What the podinfo Deployment's TargetController reports. */
export function podinfoMetadata(ports: Readonly<Record<string, number>> = {}): () => TargetMetadata {
  return () => ({ labelKey: 'app', labelValue: 'podinfo', ports });
}

/**
 * A KubeClient whose informers serve a snapshot taken at `freeze()` (a watch that lags), while
 * every other call goes to `inner`.
 */
export class LaggingKube implements KubeClient {
  readonly #inner: KubeClient;
  #snapshot: Map<string, KubeObject> | undefined;

  constructor(inner: KubeClient) {
    this.#inner = inner;
  }

  /** From now on informers return what the cluster holds now of `types`. */
  freeze(types: readonly ResourceType[], namespace: string): void {
    this.#snapshot = new Map();
    for (const type of types) {
      for (const o of this.#inner.informer(type, namespace).list(namespace)) {
        this.#snapshot.set(`${type.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
      }
    }
  }

  get: KubeClient['get'] = (type, key) => this.#inner.get(type, key);
  list: KubeClient['list'] = (type, options) => this.#inner.list(type, options);
  create: KubeClient['create'] = (obj) => this.#inner.create(obj);
  apply: KubeClient['apply'] = (obj, options) => this.#inner.apply(obj, options);
  mergePatch: KubeClient['mergePatch'] = (type, key, patch) => this.#inner.mergePatch(type, key, patch);
  patchStatus: KubeClient['patchStatus'] = (type, key, status) => this.#inner.patchStatus(type, key, status);
  delete: KubeClient['delete'] = (type, key) => this.#inner.delete(type, key);
  recordEvent: KubeClient['recordEvent'] = (event) => this.#inner.recordEvent(event);

  informer(type: ResourceType, namespace?: string): Informer {
    const inner = this.#inner.informer(type, namespace);
    const snapshot = (): Map<string, KubeObject> | undefined => this.#snapshot;
    return {
      type,
      synced: () => inner.synced(),
      get: (key: ObjectKey) => {
        const frozen = snapshot();
        if (frozen === undefined) return inner.get(key);
        return frozen.get(`${type.kind}/${key.namespace ?? namespace ?? ''}/${key.name}`);
      },
      list: (ns?: string) => inner.list(ns),
      onChange: (listener) => inner.onChange(listener),
      health: () => inner.health(),
      stop: () => inner.stop(),
    };
  }
}
