// One namespace per test, with a random suffix, deleted afterwards.
import { randomBytes } from 'node:crypto';
import { onTestFinished } from 'vitest';
import { kubectl } from './kubectl.ts';

/** Label on every namespace made here: `kubectl delete ns -l fledge.e2e/test` cleans up leftovers. */
export const TEST_NAMESPACE_LABEL = 'fledge.e2e/test';

function namespaceName(prefix: string): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'e2e';
  return `${clean}-${randomBytes(4).toString('hex')}`;
}

/** Creates a fresh namespace named `<prefix>-<random>` and returns its name. */
export async function createNamespace(prefix = 'e2e'): Promise<string> {
  const name = namespaceName(prefix);
  await kubectl(['create', 'namespace', name]);
  await kubectl(['label', 'namespace', name, `${TEST_NAMESPACE_LABEL}=true`]);
  return name;
}

/**
 * Deletes a namespace and everything in it. By default doesn't wait for the namespace controller
 * to finish (the name is random, nothing will reuse it).
 */
export async function deleteNamespace(name: string, options: { wait?: boolean } = {}): Promise<void> {
  const wait = options.wait ?? false;
  await kubectl(['delete', 'namespace', name, '--ignore-not-found', `--wait=${wait}`], { timeoutMs: 180_000 });
}

/**
 * Creates a namespace for the current test and deletes it when the test finishes (pass or fail).
 * Call it inside a test; elsewhere use {@link withNamespace} or {@link createNamespace}.
 */
export async function createTestNamespace(prefix = 'e2e'): Promise<string> {
  const name = await createNamespace(prefix);
  onTestFinished(async () => {
    await deleteNamespace(name);
  });
  return name;
}

/** Runs `fn` with a fresh namespace, deleting it afterwards (also when `fn` throws). */
export async function withNamespace<T>(fn: (namespace: string) => Promise<T>, prefix = 'e2e'): Promise<T> {
  const name = await createNamespace(prefix);
  try {
    return await fn(name);
  } finally {
    await deleteNamespace(name);
  }
}
