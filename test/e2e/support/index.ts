export { apply, kubeconfigPath, kubectl, kubectlJson, KubectlError } from './kubectl.ts';
export type { KubectlOptions, KubectlResult } from './kubectl.ts';
export {
  createNamespace,
  createTestNamespace,
  deleteNamespace,
  TEST_NAMESPACE_LABEL,
  withNamespace,
} from './namespace.ts';
export { waitFor } from './wait.ts';
export type { WaitForOptions } from './wait.ts';
