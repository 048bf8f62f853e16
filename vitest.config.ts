import { defineConfig } from 'vitest/config';

// The torture project starts a second cluster and kills its API server: it runs only when asked
// for (`npm run test:torture`, `vitest run --project torture` or FLEDGE_TORTURE=1), never as part
// of the default run.
const torture =
  process.env['FLEDGE_TORTURE'] === '1' ||
  process.argv.includes('torture') ||
  process.argv.includes('--project=torture');

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
          // Some tests generate RSA keys with openssl: give them room on a busy 2-core machine.
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // One operator per file and one namespace per test; files share the cluster.
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
      ...(torture
        ? [
            {
              test: {
                name: 'torture',
                include: ['test/torture/**/*.torture.test.ts'],
                environment: 'node',
                // Its own cluster (FLEDGE_TORTURE_STATE, default .fledge-torture): these tests kill and
                // stop control-plane processes, which must never hit the cluster the e2e tests share.
                globalSetup: ['test/torture/global-setup.ts'],
                testTimeout: 900_000,
                hookTimeout: 300_000,
                fileParallelism: false,
                maxWorkers: 1,
              },
            },
          ]
        : []),
    ],
  },
});
