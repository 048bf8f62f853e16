// Benchmark (not a test): N idle canaries on the local control plane.
//
//   node bench/idle-canaries.ts [--counts 10,100,1000] [--window 60]
//
// For each N it creates N podinfo Deployments + Canaries (provider kubernetes, interval 10s) in a
// fresh namespace, starts the operator, waits until every canary is Initialized, then measures over
// a window: the operator's RSS and CPU seconds per minute, and kube-apiserver requests per minute
// (apiserver_request_total), against a baseline window of the same cluster with the operator
// stopped, measured in the same run. Then it times `kubectl set image` → phase Progressing for a
// few canaries. Results go to stdout and bench/results/idle-canaries.json.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const counts = opt('counts', '10,100,1000').split(',').map(Number);
const windowSec = Number(opt('window', '60'));

function sh(cmd: string, cmdArgs: string[], input?: string, env?: Record<string, string>): string {
  const r = spawnSync(cmd, cmdArgs, { input, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.slice(0, 4).join(' ')}…: ${r.stderr}`);
  return r.stdout;
}

// The local cluster (starts it if needed).
sh('bash', [path.join(root, 'test/cluster/up.sh')]);
const info = JSON.parse(readFileSync(path.join(root, '.fledge/cluster/cluster.json'), 'utf8')) as {
  kubeconfig: string;
  kubectlDir: string;
};
const kubectlBin = path.join(info.kubectlDir, 'kubectl');
const kubectl = (a: string[], input?: string): string => sh(kubectlBin, ['--kubeconfig', info.kubeconfig, ...a], input);

// Each canary runs a target and a primary pod; a kwok node takes 110 pods. Add nodes as needed.
{
  const versions = readFileSync(path.join(root, 'test/cluster/versions.env'), 'utf8');
  const kwok = /KWOK_VERSION=(\S+)/.exec(versions)?.[1] ?? '';
  const cache = process.env['FLEDGE_CACHE'] ?? path.join(process.env['HOME'] ?? '', '.cache/fledge');
  const nodes = Math.ceil((2 * Math.max(...counts) + 50) / 100);
  sh(
    path.join(cache, 'bin', `kwok-${kwok}`, 'kwokctl'),
    ['--name', 'fledge', 'scale', 'node', '--replicas', String(Math.max(2, nodes))],
    undefined,
    {
      KWOK_WORKDIR: path.join(root, '.fledge/kwok'),
      PATH: `${info.kubectlDir}:${process.env['PATH'] ?? ''}`,
    },
  );
}

interface Requests {
  /** Every request the API server completed. */
  total: number;
  /** Without WATCH: watches are long-lived streams, counted when one ends and is re-opened. */
  nonWatch: number;
  /** Non-watch requests on canaries: only Fledge touches them, so this is Fledge's alone. */
  canaries: number;
}

function apiserverRequests(): Requests {
  const text = kubectl(['get', '--raw', '/metrics']);
  const r: Requests = { total: 0, nonWatch: 0, canaries: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    r.total += n;
    if (line.includes('verb="WATCH"')) continue;
    r.nonWatch += n;
    if (line.includes('resource="canaries"')) r.canaries += n;
  }
  return r;
}

const perMin = (a: Requests, b: Requests, key: keyof Requests): number => ((b[key] - a[key]) * 60) / windowSec;

function procStats(pid: number): { rssMb: number; cpuSec: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return { rssMb: rssKb / 1024, cpuSec: ticks / 100 };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function manifests(ns: string, n: number): string {
  const items: object[] = [];
  for (let i = 0; i < n; i++) {
    const name = `app-${i}`;
    items.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns, labels: { app: name } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              { name: 'app', image: 'ghcr.io/stefanprodan/podinfo:6.0.0', ports: [{ containerPort: 9898 }] },
            ],
          },
        },
      },
    });
    items.push({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name, namespace: ns },
      spec: {
        provider: 'kubernetes',
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        service: { port: 9898 },
        analysis: { interval: '10s', threshold: 2, iterations: 2 },
      },
    });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

function phases(ns: string): Record<string, string> {
  const list = JSON.parse(kubectl(['get', 'canaries', '-n', ns, '-o', 'json'])) as {
    items: { metadata: { name: string }; status?: { phase?: string } }[];
  };
  return Object.fromEntries(list.items.map((c) => [c.metadata.name, c.status?.phase ?? '']));
}

function startOperator(ns: string, port: number): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...nodeFlags,
      path.join(root, 'src/main.ts'),
      '-kubeconfig',
      info.kubeconfig,
      '-namespace',
      ns,
      '-mesh-provider',
      'kubernetes',
      '-port',
      String(port),
      '-log-level',
      'warn',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** V8 flags for the operator process, e.g. `--node-flags=--max-semi-space-size=2`. */
const nodeFlags = opt('node-flags', '').split(' ').filter(Boolean);

async function heapUsedMb(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes '));
  return line ? Number(line.split(' ')[1]) / 2 ** 20 : NaN;
}

function allAvailable(ns: string): boolean {
  const list = JSON.parse(kubectl(['get', 'deployments', '-n', ns, '-o', 'json'])) as {
    items: { spec: { replicas?: number }; status?: { availableReplicas?: number } }[];
  };
  return list.items.every((d) => (d.status?.availableReplicas ?? 0) === (d.spec.replicas ?? 1));
}

interface Result {
  canaries: number;
  initSeconds: number;
  rssMb: number;
  heapUsedMb: number;
  rssPerCanaryKb: number;
  cpuSecPerMin: number;
  apiRequestsPerMin: number;
  baselineApiRequestsPerMin: number;
  nonWatchPerMin: number;
  baselineNonWatchPerMin: number;
  canaryRequestsPerMin: number;
  operatorApiRequestsPerMin: number;
  apiRequestsPerCanaryTick: number;
  detectMs: number[];
}

const results: Result[] = [];
for (const n of counts) {
  const ns = `bench-${n}-${Date.now().toString(36)}`;
  kubectl(['create', 'namespace', ns]);
  kubectl(['apply', '-f', '-'], manifests(ns, n));
  while (!allAvailable(ns)) await sleep(2000);
  await sleep(10_000);

  // Baseline: the same cluster and objects, no operator.
  const b0 = apiserverRequests();
  await sleep(windowSec * 1000);
  const b1 = apiserverRequests();

  const t0 = Date.now();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const op = startOperator(ns, port);
  for (;;) {
    const p = Object.values(phases(ns));
    if (p.length === n && p.every((x) => x === 'Initialized')) break;
    await sleep(2000);
  }
  const initSeconds = (Date.now() - t0) / 1000;
  // Let the initialization settle: the primaries roll out and the targets scale down.
  while (!allAvailable(ns)) await sleep(2000);
  await sleep(15_000);

  const s0 = procStats(op.pid ?? 0);
  const r0 = apiserverRequests();
  await sleep(windowSec * 1000);
  const s1 = procStats(op.pid ?? 0);
  const heapMb = await heapUsedMb(port);
  const r1 = apiserverRequests();
  // Fledge's share: the non-watch requests above the baseline window's.
  const operatorPerMin = Math.max(0, perMin(r0, r1, 'nonWatch') - perMin(b0, b1, 'nonWatch'));

  // Detection latency: set image, watch for Progressing.
  const detectMs: number[] = [];
  for (let i = 0; i < Math.min(5, n); i++) {
    const name = `app-${i}`;
    const start = Date.now();
    kubectl(['-n', ns, 'set', 'image', `deployment/${name}`, 'app=ghcr.io/stefanprodan/podinfo:6.0.1']);
    for (;;) {
      const c = JSON.parse(kubectl(['-n', ns, 'get', 'canary', name, '-o', 'json'])) as { status?: { phase?: string } };
      if (c.status?.phase === 'Progressing') break;
      if (Date.now() - start > 60_000) throw new Error(`${name} never reached Progressing`);
      await sleep(20);
    }
    detectMs.push(Date.now() - start);
  }

  op.kill('SIGTERM');
  kubectl(['delete', 'namespace', ns, '--wait=false']);
  const r: Result = {
    canaries: n,
    initSeconds,
    rssMb: Math.round(s1.rssMb),
    heapUsedMb: Math.round(heapMb),
    rssPerCanaryKb: Math.round((s1.rssMb * 1024) / n),
    cpuSecPerMin: Number((((s1.cpuSec - s0.cpuSec) * 60) / windowSec).toFixed(2)),
    apiRequestsPerMin: Math.round(perMin(r0, r1, 'total')),
    baselineApiRequestsPerMin: Math.round(perMin(b0, b1, 'total')),
    nonWatchPerMin: Math.round(perMin(r0, r1, 'nonWatch')),
    baselineNonWatchPerMin: Math.round(perMin(b0, b1, 'nonWatch')),
    canaryRequestsPerMin: Math.round(perMin(r0, r1, 'canaries')),
    operatorApiRequestsPerMin: Math.round(operatorPerMin),
    // ticks per minute = n × 6 at interval 10s
    apiRequestsPerCanaryTick: Number((operatorPerMin / (n * 6)).toFixed(3)),
    detectMs,
  };
  results.push(r);
  console.log(JSON.stringify(r));
}

mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results/idle-canaries.json'), JSON.stringify(results, null, 2));
console.table(
  results.map((r) => ({
    canaries: r.canaries,
    'RSS MB': r.rssMb,
    'heap used MB': r.heapUsedMb,
    'CPU s/min': r.cpuSecPerMin,
    'API req/min, all: operator / baseline': `${r.apiRequestsPerMin} / ${r.baselineApiRequestsPerMin}`,
    'non-watch req/min: operator / baseline': `${r.nonWatchPerMin} / ${r.baselineNonWatchPerMin}`,
    'ratio to baseline': (r.nonWatchPerMin / Math.max(1, r.baselineNonWatchPerMin)).toFixed(2),
    'canary req/min': r.canaryRequestsPerMin,
    'req per canary tick': r.apiRequestsPerCanaryTick,
    'detect ms (median)': [...r.detectMs].sort((a, b) => a - b)[Math.floor(r.detectMs.length / 2)],
  })),
);
