/**
 * Gate storage. Flagger's loadtester keeps gates in a map in memory: a restart closes every gate,
 * and two replicas disagree. fledge-loadtester stores them in one ConfigMap (default
 * `fledge-loadtester-gates` in the pod's namespace), one data key per open gate with the value
 * `"true"`: `<name>.<namespace>` for `/gate/*`, `rollback.<name>.<namespace>` for `/rollback/*`.
 * A missing key (or ConfigMap) is a closed gate; closing deletes the key.
 *
 * Every check reads the ConfigMap from the API server (no cache), so a gate opened through one
 * replica is seen by the next check on any other. Writes are JSON merge patches guarded by the
 * resourceVersion just read, retried on conflict (`retryOnConflict`), and the ConfigMap is created
 * on the first open (a concurrent create by another replica is retried the same way).
 */
import { AlreadyExistsError, ConflictError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { retryOnConflict } from '../kube/retry.ts';

/** Where gates live; implemented over the Kubernetes API (and in memory for unit tests). */
export interface GateStore {
  /** True when the gate `key` is open. */
  isOpen(key: string): Promise<boolean>;
  /** Opens or closes the gate `key`. */
  set(key: string, open: boolean): Promise<void>;
}

/** Default name of the gates ConfigMap (`-gate-configmap`). */
export const DEFAULT_GATE_CONFIGMAP = 'fledge-loadtester-gates';

/** Label on the ConfigMap this store creates. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'fledge-loadtester' } as const;

/** ConfigMap data keys: `[-._a-zA-Z0-9]+`, at most 253 characters. */
const KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/** True when `key` can be a ConfigMap data key. */
export function isValidGateKey(key: string): boolean {
  return KEY.test(key);
}

/** The key of a canary's gate, as Flagger names it: `<name>.<namespace>` or `rollback.<name>.<namespace>`. */
export function gateKey(kind: 'gate' | 'rollback', name: string, namespace: string): string {
  return kind === 'gate' ? `${name}.${namespace}` : `rollback.${name}.${namespace}`;
}

/** Options of {@link ConfigMapGateStore}. */
export interface ConfigMapGateStoreOptions {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly name?: string;
  /** Attempts of one write on conflicts (default 10: replicas may write at the same time). */
  readonly attempts?: number;
}

/** The {@link GateStore} over a ConfigMap. */
export class ConfigMapGateStore implements GateStore {
  readonly #kube: KubeClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly #attempts: number;

  constructor(options: ConfigMapGateStoreOptions) {
    this.#kube = options.kube;
    this.#namespace = options.namespace;
    this.#name = options.name ?? DEFAULT_GATE_CONFIGMAP;
    this.#attempts = options.attempts ?? 10;
  }

  /** `namespace/name` of the ConfigMap, for logs. */
  get location(): string {
    return `${this.#namespace}/${this.#name}`;
  }

  async isOpen(key: string): Promise<boolean> {
    const cm = await this.#kube.get(Resources.configMap, { namespace: this.#namespace, name: this.#name });
    return dataOf(cm)[key] === 'true';
  }

  async set(key: string, open: boolean): Promise<void> {
    if (!isValidGateKey(key)) throw new RangeError(`invalid gate key ${JSON.stringify(key)}`);
    const ref = { namespace: this.#namespace, name: this.#name };
    await retryOnConflict(
      async () => {
        const cm = await this.#kube.get(Resources.configMap, ref);
        if (!cm) {
          if (!open) return;
          try {
            await this.#kube.create({
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { ...ref, labels: { ...MANAGED_BY } },
              data: { [key]: 'true' },
            });
            return;
          } catch (err) {
            // Another replica created it first: read it again and patch.
            if (err instanceof AlreadyExistsError) {
              throw new ConflictError(`ConfigMap ${this.location} was created concurrently`, 409, 'Conflict', {
                cause: err,
              });
            }
            throw err;
          }
        }
        const current = dataOf(cm)[key] === 'true';
        if (current === open) return;
        await this.#kube.mergePatch(Resources.configMap, ref, {
          metadata: { resourceVersion: cm.metadata.resourceVersion },
          data: { [key]: open ? 'true' : null },
        });
      },
      { attempts: this.#attempts },
    );
  }
}

function dataOf(cm: KubeObject | undefined): Readonly<Record<string, unknown>> {
  const data = cm?.['data'];
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}
