// Benchmark (not a test): the maximum requests per second of fledge-loadtester's built-in HTTP
// load generator against a local Node HTTP server, side by side with Debian's `hey` on the same
// target in the same run, reported as a ratio. Also runs a plain axios loop on the same target, the
// evidence for not using the project's axios client in the generator's hot path.
//
//   node bench/loadgen.ts [--duration 10] [--concurrency 50] [--rounds 1]
//
// Loopback only (127.0.0.1). Each tool runs `--duration` seconds per round after a 1 s warm-up,
// unlimited rate, `--concurrency` workers, keep-alive. The target is one Node process answering
// `ok` at once; its CPU use is reported per phase, since on a small machine it can be the
// bottleneck (then the ratio says "as fast as the server allows", and CPU seconds per 1000
// requests tell the generators apart). Needs `hey` on PATH (`apt-get install -y hey`).
// Results go to stdout and bench/results/loadgen.json.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { runLoad } from '../src/loadtester/generator.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} wants a positive number`);
  return v;
};
const durationSec = opt('duration', 10);
const concurrency = opt('concurrency', 50);
const rounds = opt('rounds', 1);

interface Phase {
  readonly tool: 'fledge' | 'hey' | 'axios';
  readonly round: number;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  /** CPU seconds (user + system) of the generator. */
  readonly generatorCpuSeconds: number;
  /** CPU seconds of the target server during the phase. */
  readonly serverCpuSeconds: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

const CLK_TCK = 100;
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The target: a separate Node process answering `ok` to everything, on 127.0.0.1. */
async function startTarget(): Promise<{ url: string; pid: number; child: ChildProcess }> {
  const code = `
    const http = require('node:http');
    const s = http.createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (b: Buffer) => resolve(Number(b.toString('utf8').trim())));
  });
  if (child.pid === undefined) throw new Error('target did not start');
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid, child };
}

async function runFledge(url: string, seconds: number): Promise<Omit<Phase, 'tool' | 'round' | 'serverCpuSeconds'>> {
  const cpu0 = process.cpuUsage();
  const report = await runLoad({
    url,
    method: 'GET',
    headers: [['User-Agent', 'fledge-loadtester']],
    concurrency,
    durationMs: seconds * 1000,
    timeoutMs: 20_000,
    keepAlive: true,
    insecureSkipVerify: false,
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    requests: report.requests,
    errors: report.errors,
    seconds: report.durationSeconds,
    rps: report.requestsPerSecond,
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
    p50Ms: report.latencyMs.p50,
    p99Ms: report.latencyMs.p99,
  };
}

/** hey in `bash -c '…; times'`: bash's `times` prints the CPU time of its children (hey) last. */
function runHey(url: string, seconds: number): Omit<Phase, 'tool' | 'round' | 'serverCpuSeconds'> {
  const r = spawnSync(
    'bash',
    ['-c', 'hey -z "$1" -c "$2" "$3"; times', 'bench', `${seconds}s`, String(concurrency), url],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`hey failed (is it installed? apt-get install -y hey): ${r.stderr}`);
  const out = r.stdout;
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? Number.NaN);
  const ok = [...out.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)].reduce(
    (acc, m) => {
      const n = Number(m[2]);
      if (Number(m[1]) < 400) acc.ok += n;
      else acc.bad += n;
      return acc;
    },
    { ok: 0, bad: 0 },
  );
  const netErrors = [...out.matchAll(/^\s+\[(\d+)\]\s+(?:Get|Post|dial)/gm)].reduce((s, m) => s + Number(m[1]), 0);
  // `times`: line 1 is the shell, line 2 its children: "0m1.234s 0m0.567s".
  const lines = out.trim().split('\n');
  const children = lines[lines.length - 1] ?? '';
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 60 + Number(m[2]), 0);
  return {
    requests: ok.ok + ok.bad + netErrors,
    errors: ok.bad + netErrors,
    seconds: num(/Total:\s+([\d.]+) secs/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    generatorCpuSeconds: cpu,
    p50Ms: num(/50% in ([\d.]+) secs/) * 1000,
    p99Ms: num(/99% in ([\d.]+) secs/) * 1000,
  };
}

/** What the generator would do with the project's axios instead of undici (not used). */
async function runAxios(url: string, seconds: number): Promise<Omit<Phase, 'tool' | 'round' | 'serverCpuSeconds'>> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const client = axios.create({ httpAgent: agent, validateStatus: () => true, responseType: 'text' });
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let requests = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        try {
          const res = await client.get<string>(url);
          if (res.status >= 400) errors++;
        } catch {
          errors++;
        }
        requests++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return {
    requests,
    errors,
    seconds: elapsed,
    rps: Math.round((requests / elapsed) * 100) / 100,
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
    p50Ms: null,
    p99Ms: null,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const round2 = (x: number): number => Math.round(x * 100) / 100;

const target = await startTarget();
const phases: Phase[] = [];
try {
  const tools = { fledge: runFledge, hey: runHey, axios: runAxios } as const;
  for (let round = 1; round <= rounds; round++) {
    for (const tool of ['fledge', 'hey', 'axios'] as const) {
      await tools[tool](target.url, 1); // warm-up: connections, JIT
      const server0 = cpuSecondsOf(target.pid);
      const r = await tools[tool](target.url, durationSec);
      const phase: Phase = { tool, round, ...r, serverCpuSeconds: round2(cpuSecondsOf(target.pid) - server0) };
      phases.push(phase);
      console.log(
        `${tool.padEnd(6)} round ${round}: ${r.rps.toFixed(0)} req/s, ${r.requests} requests, ${r.errors} errors, ` +
          `generator CPU ${r.generatorCpuSeconds.toFixed(2)} s, server CPU ${phase.serverCpuSeconds.toFixed(2)} s`,
      );
    }
  }
} finally {
  target.child.kill('SIGTERM');
}

const summary = (tool: Phase['tool']): Record<string, number> => {
  const ps = phases.filter((p) => p.tool === tool);
  const rps = median(ps.map((p) => p.rps));
  const cpuPerK = median(ps.map((p) => (p.generatorCpuSeconds / Math.max(1, p.requests)) * 1000));
  const serverCpu = median(ps.map((p) => p.serverCpuSeconds / p.seconds));
  return {
    rps: round2(rps),
    generatorCpuSecondsPer1000Requests: Math.round(cpuPerK * 1e4) / 1e4,
    serverCpuShare: round2(serverCpu),
  };
};
const fledge = summary('fledge');
const hey = summary('hey');
const ax = summary('axios');
const result = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
  heyVersion: spawnSync('dpkg-query', ['-W', '-f=${Version}', 'hey'], { encoding: 'utf8' }).stdout || 'unknown',
  target: 'one Node process on 127.0.0.1 answering 200 "ok" at once',
  settings: { durationSeconds: durationSec, concurrency, rounds, keepAlive: true, rate: 'unlimited' },
  fledge,
  hey,
  axios: ax,
  ratio: {
    /** > 1: the built-in generator sends more requests per second than hey. */
    fledgeOverHeyRps: round2((fledge['rps'] ?? 0) / (hey['rps'] || 1)),
    /** > 1: the built-in generator spends more CPU per request than hey. */
    fledgeOverHeyCpuPerRequest: round2(
      (fledge['generatorCpuSecondsPer1000Requests'] ?? 0) / (hey['generatorCpuSecondsPer1000Requests'] || 1),
    ),
    fledgeOverAxiosRps: round2((fledge['rps'] ?? 0) / (ax['rps'] || 1)),
  },
  phases,
};
console.log(JSON.stringify({ fledge, hey, axios: ax, ratio: result.ratio }, null, 2));
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results/loadgen.json'), JSON.stringify(result, null, 2) + '\n');
