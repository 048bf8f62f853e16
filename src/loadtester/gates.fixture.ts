/**
 * An in-memory {@link GateStore} for unit tests only (fixtures are not part of the build): the
 * loadtester itself always stores gates in the API (see gates.ts). It can be told to fail, to test
 * how handlers answer when the API server is unreachable.
 */
import type { GateStore } from './gates.ts';

export class MemoryGateStore implements GateStore {
  readonly open = new Set<string>();
  /** When set, every call rejects with it. */
  failure: Error | undefined;

  isOpen(key: string): Promise<boolean> {
    if (this.failure) return Promise.reject(this.failure);
    return Promise.resolve(this.open.has(key));
  }

  set(key: string, open: boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (open) this.open.add(key);
    else this.open.delete(key);
    return Promise.resolve();
  }
}
