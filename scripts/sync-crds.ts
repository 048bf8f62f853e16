/**
 * `npm run crd`: copies the single CRD source `artifacts/flagger/crd.yaml` to the Helm chart and
 * the kustomize base (Flagger's `make crd`). `--check` changes nothing and exits 1 when a copy is
 * missing or differs (for CI).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CRD source, relative to the repository root. */
export const CRD_SOURCE = 'artifacts/flagger/crd.yaml';
/** The copies kept identical to the source, relative to the repository root. */
export const CRD_COPIES = ['charts/fledge/crds/crd.yaml', 'kustomize/base/fledge/crd.yaml'] as const;

/** The repository root (this file lives in `<root>/scripts/`). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e: unknown) {
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Lists the copies (relative paths) that are missing or differ from the source. */
export function staleCopies(root: string = repoRoot): string[] {
  const source = readFileSync(join(root, CRD_SOURCE), 'utf8');
  return CRD_COPIES.filter((copy) => readOrUndefined(join(root, copy)) !== source);
}

/** Writes the source over every stale copy, creating directories as needed; returns what was written. */
export function syncCrds(root: string = repoRoot): string[] {
  const source = readFileSync(join(root, CRD_SOURCE), 'utf8');
  const stale = staleCopies(root);
  for (const copy of stale) {
    const target = join(root, copy);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, source);
  }
  return stale;
}

function main(args: readonly string[]): number {
  if (args.includes('--check')) {
    const stale = staleCopies();
    for (const copy of stale) console.error(`${copy} differs from ${CRD_SOURCE}; run \`npm run crd\``);
    return stale.length === 0 ? 0 : 1;
  }
  const written = syncCrds();
  for (const copy of written) console.log(`wrote ${relative(process.cwd(), join(repoRoot, copy))}`);
  if (written.length === 0) console.log('CRD copies are up to date');
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
