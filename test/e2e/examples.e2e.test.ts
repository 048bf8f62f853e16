// Every manifest under examples/ is accepted by the real API server (its CRD schemas included), and
// every Canary in it is one Fledge takes as it is: valid, with a provider it routes.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { providerOf } from '../../src/apis/flagger/v1beta1/defaults.ts';
import { parseCanary } from '../../src/apis/flagger/v1beta1/parse.ts';
import { isRecord } from '../../src/kube/json.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { routedProviders } from '../../src/router/factory.ts';
import { createTestNamespace, kubectl } from './support/index.ts';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
const folders = readdirSync(examples, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function manifests(folder: string): string[] {
  return readdirSync(path.join(examples, folder))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(examples, folder, f));
}

function canariesIn(file: string): KubeObject[] {
  return loadAll(readFileSync(file, 'utf8')).filter(
    (doc): doc is KubeObject => isRecord(doc) && doc['kind'] === 'Canary',
  );
}

describe('examples/', () => {
  it('has the shared podinfo workload and a canary for each folder', () => {
    expect(folders).toContain('podinfo');
    for (const folder of folders.filter((f) => f !== 'podinfo')) {
      expect(manifests(folder).flatMap(canariesIn), folder).toHaveLength(1);
    }
  });

  it.each(folders.filter((f) => f !== 'podinfo'))(
    '%s: applies to the API server and parses as Fledge routes it',
    async (folder) => {
      const ns = await createTestNamespace('examples');
      for (const file of manifests('podinfo')) await kubectl(['apply', '-n', ns, '-f', file]);
      for (const file of manifests(folder)) {
        await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', file]);
        for (const obj of canariesIn(file)) {
          const canary = parseCanary({ ...obj, metadata: { ...obj.metadata, namespace: ns } });
          expect(routedProviders).toContain(providerOf(canary, 'istio'));
        }
      }
    },
  );
});
