// The install manifests: the Helm chart (charts/fledge) rendered by the pinned helm, and the kustomize
// overlays (kustomize/) built by kubectl, checked for the flags they pass and accepted by the real API
// server with `kubectl apply --dry-run=server` in a fresh namespace.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { createTestNamespace, kubeconfigPath, kubectl, kubectlJson } from './support/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chartDir = path.join(root, 'charts/fledge');
const crdSource = path.join(root, 'artifacts/flagger/crd.yaml');

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean };
}
interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    strategy?: { type?: string };
    template: { spec: { serviceAccountName?: string; containers: Container[] } };
  };
}
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}
interface ClusterRole extends KubeObject {
  rules: PolicyRule[];
}
interface ClusterRoleBinding extends KubeObject {
  subjects: { kind: string; name: string; namespace?: string }[];
}

/** `KEY=value` lines of test/cluster/versions.env. */
function pinnedVersion(key: string): string {
  const text = readFileSync(path.join(root, 'test/cluster/versions.env'), 'utf8');
  const value = new RegExp(`^${key}=(\\S+)`, 'm').exec(text)?.[1];
  if (!value) throw new Error(`test/cluster/versions.env has no ${key}`);
  return value;
}

/** The helm that test/cluster/build.sh builds into the cache; a clear failure when it is missing. */
function helmBinary(): string {
  const version = pinnedVersion('HELM_VERSION');
  const cache =
    process.env.FLEDGE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'fledge');
  const binary = path.join(cache, 'bin', `helm-${version}`, 'helm');
  if (!existsSync(binary)) {
    throw new Error(
      `helm ${version} is missing at ${binary}: build it with \`bash test/cluster/build.sh helm\` (or \`npm run cluster:build\`)`,
    );
  }
  return binary;
}

interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function runHelm(args: readonly string[]): Promise<RunResult> {
  const binary = helmBinary();
  return new Promise((resolve, reject) => {
    execFile(binary, args, { maxBuffer: 64 * 1024 * 1024, timeout: 240_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(new Error(`${binary} could not run: ${error.message}`));
      else resolve({ stdout, stderr, exitCode: typeof error?.code === 'number' ? error.code : 0 });
    });
  });
}

async function helm(args: readonly string[]): Promise<string> {
  const result = await runHelm(args);
  if (result.exitCode !== 0) {
    throw new Error(`helm ${args.join(' ')} exited with ${result.exitCode}: ${result.stderr.trim() || result.stdout}`);
  }
  return result.stdout;
}

/** A temporary file holding `content`, removed when the test finishes. */
function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fledge-chart-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

// helm's default capabilities depend on how it was built (v1.20 for a `go install` build), below the
// chart's kubeVersion; render for the Kubernetes version of the e2e cluster.
const kubeVersion = pinnedVersion('KUBE_VERSION');

interface TemplateOptions {
  namespace?: string;
  set?: Record<string, string>;
  /** Written to a values file (JSON is YAML) and passed with `-f`. */
  values?: object;
  /** A values file's text, passed with `-f`. */
  valuesYaml?: string;
  includeCrds?: boolean;
}

function templateArgs(options: TemplateOptions): string[] {
  const args = ['template', 'fledge', chartDir, '--namespace', options.namespace ?? 'fledge-system'];
  args.push('--kube-version', kubeVersion);
  if (options.includeCrds) args.push('--include-crds');
  if (options.values) args.push('-f', tempFile('values.json', JSON.stringify(options.values)));
  if (options.valuesYaml !== undefined) args.push('-f', tempFile('values.yaml', options.valuesYaml));
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`);
  return args;
}

function helmTemplate(options: TemplateOptions = {}): Promise<string> {
  return helm(templateArgs(options));
}

function parseObjects(yaml: string): KubeObject[] {
  return loadAll(yaml).filter((doc): doc is KubeObject => typeof doc === 'object' && doc !== null);
}

function only<T extends KubeObject>(objects: readonly KubeObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  expect(
    found.map((o) => o.metadata.name),
    `exactly one ${kind}`,
  ).toHaveLength(1);
  return found[0] as T;
}

function fledgeContainer(objects: readonly KubeObject[]): Container {
  const containers = only<Deployment>(objects, 'Deployment').spec.template.spec.containers;
  const container = containers.find((c) => c.name === 'fledge');
  if (!container) throw new Error(`no container "fledge" in ${containers.map((c) => c.name).join(', ')}`);
  return container;
}

const argsOf = (objects: readonly KubeObject[]): string[] => fledgeContainer(objects).args ?? [];

/**
 * `kubectl apply --dry-run=server` into `namespace`: every object validated and admitted by the API
 * server, nothing stored. The namespace is labelled to warn on pods below the restricted Pod Security
 * Standard, and any such warning fails: the chart and the overlays claim to meet it.
 */
async function serverDryRun(manifests: string, namespace: string): Promise<string> {
  await kubectl(['label', 'namespace', namespace, '--overwrite', 'pod-security.kubernetes.io/warn=restricted']);
  const { stdout, stderr } = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifests, namespace });
  expect(stderr).not.toMatch(/would violate PodSecurity/);
  return stdout;
}

function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const version = (pkg as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

/** `kubectl kustomize` of a directory relative to the repository root. */
async function kustomize(dir: string): Promise<string> {
  return (await kubectl(['kustomize', path.join(root, dir)])).stdout;
}

/**
 * Every chart value that becomes a flag, with the flag it becomes, in the order the chart renders them
 * (the table of charts/fledge/README.md).
 */
const valueFlags: readonly { value: string; setTo: string | number | boolean; flag: string }[] = [
  { value: 'logLevel', setTo: 'debug', flag: '-log-level=debug' },
  { value: 'meshProvider', setTo: 'gatewayapi:v1', flag: '-mesh-provider=gatewayapi:v1' },
  {
    value: 'metricsServer',
    setTo: 'http://prometheus.monitoring:9090',
    flag: '-metrics-server=http://prometheus.monitoring:9090',
  },
  { value: 'selectorLabels', setTo: 'app,app.kubernetes.io/name', flag: '-selector-labels=app,app.kubernetes.io/name' },
  { value: 'configTracking.enabled', setTo: false, flag: '-enable-config-tracking=false' },
  { value: 'namespace', setTo: 'apps', flag: '-namespace=apps' },
  {
    value: 'slack.url',
    setTo: 'https://hooks.slack.com/services/x',
    flag: '-slack-url=https://hooks.slack.com/services/x',
  },
  { value: 'slack.proxyUrl', setTo: 'http://proxy:3128', flag: '-slack-proxy-url=http://proxy:3128' },
  { value: 'slack.user', setTo: 'fledge', flag: '-slack-user=fledge' },
  { value: 'slack.channel', setTo: 'deploys', flag: '-slack-channel=deploys' },
  { value: 'msteams.url', setTo: 'https://teams.example/hook', flag: '-msteams-url=https://teams.example/hook' },
  { value: 'msteams.proxyUrl', setTo: 'http://proxy:3129', flag: '-msteams-proxy-url=http://proxy:3129' },
  { value: 'leaderElection.enabled', setTo: true, flag: '-enable-leader-election=true' },
  // leaderElection.enabled also sets the Lease's namespace to the release namespace
  { value: 'leaderElection.enabled', setTo: true, flag: '-leader-election-namespace=fledge-system' },
  { value: 'ingressAnnotationsPrefix', setTo: 'custom.ingress', flag: '-ingress-annotations-prefix=custom.ingress' },
  {
    value: 'includeLabelPrefix',
    setTo: 'app.kubernetes.io,team',
    flag: '-include-label-prefix=app.kubernetes.io,team',
  },
  { value: 'ingressClass', setTo: 'contour', flag: '-ingress-class=contour' },
  { value: 'eventWebhook', setTo: 'http://events.example/hook', flag: '-event-webhook=http://events.example/hook' },
  { value: 'kubeconfigQPS', setTo: 50, flag: '-kubeconfig-qps=50' },
  { value: 'kubeconfigBurst', setTo: 80, flag: '-kubeconfig-burst=80' },
  { value: 'threadiness', setTo: 8, flag: '-threadiness=8' },
  { value: 'clusterName', setTo: 'prod-eu', flag: '-cluster-name=prod-eu' },
  { value: 'noCrossNamespaceRefs', setTo: true, flag: '-no-cross-namespace-refs=true' },
];

/** A values object from dotted keys (`slack.url` → `{ slack: { url } }`). */
function valuesFrom(entries: readonly { value: string; setTo: unknown }[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const { value, setTo } of entries) {
    const keys = value.split('.');
    let node = values;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else node = node[key] = {};
    }
    node[keys[keys.length - 1] ?? ''] = setTo;
  }
  return values;
}

describe('Helm chart charts/fledge', () => {
  it('passes helm lint --strict, with the defaults and with the common options', async () => {
    const plain = await helm(['lint', '--strict', chartDir]);
    expect(plain).toContain('0 chart(s) failed');
    const tuned = await helm([
      'lint',
      '--strict',
      chartDir,
      '--set',
      'meshProvider=gatewayapi:v1,leaderElection.enabled=true,leaderElection.replicaCount=2',
      '--set',
      'podDisruptionBudget.enabled=true,serviceMonitor.enabled=true,podMonitor.enabled=true',
    ]);
    expect(tuned).toContain('0 chart(s) failed');
  });

  it('has appVersion = package.json version, and runs that image non-root with the health probes', async () => {
    const chart = load(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as { name: string; appVersion: string };
    expect(chart.name).toBe('fledge');
    expect(chart.appVersion).toBe(packageVersion());

    const objects = parseObjects(await helmTemplate({ set: { meshProvider: 'istio' } }));
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Service',
      'ServiceAccount',
    ]);
    const deployment = only<Deployment>(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy?.type).toBe('Recreate');
    expect(deployment.spec.template.spec.serviceAccountName).toBe('fledge');
    const container = fledgeContainer(objects);
    expect(container.image).toBe(`ghcr.io/fledge/fledge:${packageVersion()}`);
    expect(container.args).toEqual([
      '-log-level=info',
      '-mesh-provider=istio',
      '-metrics-server=http://prometheus:9090',
      '-enable-config-tracking=true',
      '-slack-user=flagger',
    ]);
    expect(container.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: 8080 })]);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      readOnlyRootFilesystem: true,
    });
  });

  it('passes meshProvider gatewayapi:v1 as -mesh-provider=gatewayapi:v1', async () => {
    const args = argsOf(parseObjects(await helmTemplate({ set: { meshProvider: 'gatewayapi:v1' } })));
    expect(args).toContain('-mesh-provider=gatewayapi:v1');
    expect(args.filter((a) => a.startsWith('-mesh-provider'))).toHaveLength(1);
  });

  it('leaves -mesh-provider out when meshProvider is empty (the binary default), as Flagger does', async () => {
    const args = argsOf(parseObjects(await helmTemplate()));
    expect(args.some((a) => a.startsWith('-mesh-provider'))).toBe(false);
  });

  it('runs replicas with -enable-leader-election=true and a Lease in the release namespace', async () => {
    const objects = parseObjects(
      await helmTemplate({
        namespace: 'ops',
        set: { 'leaderElection.enabled': 'true', 'leaderElection.replicaCount': '2' },
      }),
    );
    const deployment = only<Deployment>(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy).toBeUndefined();
    expect(argsOf(objects)).toEqual(
      expect.arrayContaining(['-enable-leader-election=true', '-leader-election-namespace=ops']),
    );
  });

  it('maps every flag value to its flag, and the binary accepts the result', async () => {
    const objects = parseObjects(
      await helmTemplate({ values: { ...valuesFrom(valueFlags), leaderElection: { enabled: true, replicaCount: 2 } } }),
    );
    const args = argsOf(objects);
    expect(args).toEqual(valueFlags.map((v) => v.flag));

    const config = parseConfig(args, {});
    if (config instanceof ConfigError) throw config;
    expect(config).toMatchObject({
      logLevel: 'debug',
      meshProvider: 'gatewayapi:v1',
      metricsServer: 'http://prometheus.monitoring:9090',
      selectorLabels: ['app', 'app.kubernetes.io/name'],
      enableConfigTracking: false,
      namespace: 'apps',
      slack: {
        url: 'https://hooks.slack.com/services/x',
        proxyUrl: 'http://proxy:3128',
        user: 'fledge',
        channel: 'deploys',
      },
      msteams: { url: 'https://teams.example/hook', proxyUrl: 'http://proxy:3129' },
      enableLeaderElection: true,
      ingressAnnotationsPrefix: 'custom.ingress',
      includeLabelPrefix: ['app.kubernetes.io', 'team'],
      ingressClass: 'contour',
      eventWebhook: 'http://events.example/hook',
      kubeconfigQps: 50,
      kubeconfigBurst: 80,
      threadiness: 8,
      clusterName: 'prod-eu',
      noCrossNamespaceRefs: true,
    });
  });

  it("renders a values file written for Flagger's chart", async () => {
    // Flagger's documented values, including its default affinity, which names Flagger's helper template.
    const flaggerValues = `
meshProvider: istio
metricsServer: http://prometheus.istio-system:9090
logLevel: warning
podAnnotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: "8080"
  appmesh.k8s.aws/sidecarInjectorWebhook: disabled
  linkerd.io/inject: enabled
securityContext:
  enabled: true
  context:
    readOnlyRootFilesystem: true
    runAsUser: 10001
slack:
  user: flagger
  channel: general
  url: https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK
  proxy: http://squid:3128
msteams:
  url:
env:
  - name: EVENT_WEBHOOK_URL
    valueFrom:
      secretKeyRef:
        name: eventwebhook
        key: url
leaderElection:
  enabled: true
  replicaCount: 2
prometheus:
  install: false
kubeconfigQPS: ""
kubeconfigBurst: ""
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: '{{ template "flagger.name" . }}'
              app.kubernetes.io/instance: '{{ .Release.Name }}'
          topologyKey: kubernetes.io/hostname
`;
    const objects = parseObjects(await helmTemplate({ valuesYaml: flaggerValues }));
    expect(argsOf(objects)).toEqual([
      '-log-level=warning',
      '-mesh-provider=istio',
      '-metrics-server=http://prometheus.istio-system:9090',
      '-enable-config-tracking=true',
      '-slack-url=https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK',
      '-slack-proxy-url=http://squid:3128',
      '-slack-user=flagger',
      '-slack-channel=general',
      '-enable-leader-election=true',
      '-leader-election-namespace=fledge-system',
    ]);
    const parsed = parseConfig(argsOf(objects), {});
    if (parsed instanceof ConfigError) throw parsed;
    expect(parsed.logLevel).toBe('warn');
    const yaml = JSON.stringify(only<Deployment>(objects, 'Deployment'));
    expect(yaml).toContain('"app.kubernetes.io/name":"fledge"');
    expect(yaml).toContain('EVENT_WEBHOOK_URL');
  });

  it('refuses Flagger values that Fledge cannot honour, naming the value', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ meshProvider: 'linkerd2' }, /meshProvider "linkerd2" is not one of/],
      [{ 'prometheus.install': 'true' }, /prometheus.install=true is not supported/],
      [{ 'controlplane.kubeconfig.secretName': 'mesh' }, /controlplane.kubeconfig.secretName is not supported/],
      [{ 'leaderElection.replicaCount': '2' }, /needs leaderElection.enabled=true/],
      [{ logLevel: 'trace' }, /logLevel "trace" is not one of/],
    ];
    for (const [set, message] of cases) {
      const result = await runHelm(templateArgs({ set }));
      expect(result.exitCode, JSON.stringify(set)).not.toBe(0);
      expect(result.stderr).toMatch(message);
    }
  });

  it('ships the CRDs of artifacts/flagger/crd.yaml byte for byte (crds/ and the kustomize base)', async () => {
    const source = readFileSync(crdSource);
    expect(readFileSync(path.join(chartDir, 'crds/crd.yaml')).equals(source)).toBe(true);
    expect(readFileSync(path.join(root, 'kustomize/base/fledge/crd.yaml')).equals(source)).toBe(true);

    const crdNames = (objects: KubeObject[]): string[] =>
      objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
    const expected = ['canaries.flagger.app', 'metrictemplates.flagger.app', 'alertproviders.flagger.app'];
    expect(crdNames(parseObjects(await helmTemplate()))).toEqual([]);
    expect(crdNames(parseObjects(await helmTemplate({ includeCrds: true })))).toEqual(expected);
    // crd.create renders them as templates too (Flagger's Helm v2 option)
    expect(crdNames(parseObjects(await helmTemplate({ set: { 'crd.create': 'true' } })))).toEqual(expected);
  });

  it('renders the optional PodDisruptionBudget, ServiceMonitor and PodMonitor', async () => {
    const objects = parseObjects(
      await helmTemplate({
        set: {
          'podDisruptionBudget.enabled': 'true',
          'serviceMonitor.enabled': 'true',
          'serviceMonitor.namespace': 'monitoring',
          'podMonitor.enabled': 'true',
        },
      }),
    );
    expect(only(objects, 'PodDisruptionBudget').metadata.namespace).toBe('fledge-system');
    expect(only(objects, 'ServiceMonitor').metadata.namespace).toBe('monitoring');
    expect(only(objects, 'PodMonitor').metadata.namespace).toBe('fledge-system');
  });

  it('is accepted by the API server (server-side dry run) in a fresh namespace', async () => {
    const ns = await createTestNamespace('chart');
    for (const meshProvider of ['istio', 'gatewayapi:v1']) {
      const manifests = await helmTemplate({
        namespace: ns,
        includeCrds: true,
        set: {
          meshProvider,
          'leaderElection.enabled': 'true',
          'leaderElection.replicaCount': '2',
          'podDisruptionBudget.enabled': 'true',
        },
      });
      const binding = only<ClusterRoleBinding>(parseObjects(manifests), 'ClusterRoleBinding');
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'fledge', namespace: ns }]);

      const out = await serverDryRun(manifests, ns);
      for (const object of [
        'serviceaccount/fledge',
        'clusterrole.rbac.authorization.k8s.io/fledge',
        'clusterrolebinding.rbac.authorization.k8s.io/fledge',
        'service/fledge',
        'deployment.apps/fledge',
        'poddisruptionbudget.policy/fledge',
        'customresourcedefinition.apiextensions.k8s.io/canaries.flagger.app',
      ]) {
        expect(out).toMatch(new RegExp(`^${object.replace(/\./g, '\\.')} \\S+ \\(server dry run\\)$`, 'm'));
      }
    }
  });
  it('installs with helm upgrade -i, upgrades to leader election, and uninstalls', async () => {
    const ns = await createTestNamespace('helm');
    // Cluster-scoped names (ClusterRole, ClusterRoleBinding) come from the release name: unique per test.
    const release = `fledge-${ns.slice(ns.lastIndexOf('-') + 1)}`;
    const common = ['--namespace', ns, '--kubeconfig', kubeconfigPath(), '--wait', '--timeout', '3m'];
    const deployment = (): Promise<Deployment> =>
      kubectlJson<Deployment>(['get', 'deployment', release], { namespace: ns });
    try {
      await helm(['upgrade', '-i', release, chartDir, ...common, '--set', 'meshProvider=istio']);
      // kwok runs the pods (no image is pulled): `--wait` saw the Deployment available.
      const installed = await deployment();
      expect(installed.spec.replicas).toBe(1);
      expect(installed.spec.template.spec.containers[0]?.args).toContain('-mesh-provider=istio');

      await helm([
        'upgrade',
        '-i',
        release,
        chartDir,
        ...common,
        '--reuse-values',
        '--set',
        'leaderElection.enabled=true,leaderElection.replicaCount=2',
      ]);
      const upgraded = await deployment();
      expect(upgraded.spec.replicas).toBe(2);
      expect(upgraded.spec.template.spec.containers[0]?.args).toEqual(
        expect.arrayContaining([
          '-mesh-provider=istio',
          '-enable-leader-election=true',
          `-leader-election-namespace=${ns}`,
        ]),
      );
    } finally {
      await runHelm(['uninstall', release, '--namespace', ns, '--kubeconfig', kubeconfigPath(), '--wait']);
    }
    const left = await kubectl(['get', 'clusterrole', release], { allowFailure: true });
    expect(left.stderr).toContain('NotFound');
    // crds/ are never deleted by helm (and carry helm.sh/resource-policy: keep)
    await kubectl(['get', 'crd', 'canaries.flagger.app']);
  });
});

describe('kustomize overlays', () => {
  it('set -mesh-provider per overlay, as Flagger overlays do', async () => {
    const gatewayapi = parseObjects(await kustomize('kustomize/gatewayapi'));
    expect(argsOf(gatewayapi)).toContain('-mesh-provider=gatewayapi:v1');
    const kubernetes = parseObjects(await kustomize('kustomize/kubernetes'));
    expect(argsOf(kubernetes)).toContain('-mesh-provider=kubernetes');
    const base = parseObjects(await kustomize('kustomize/base/fledge'));
    expect(argsOf(base)).toEqual([]);

    for (const objects of [gatewayapi, kubernetes]) {
      expect(only(objects, 'Namespace').metadata.name).toBe('fledge-system');
      expect(only(objects, 'Deployment').metadata.namespace).toBe('fledge-system');
      expect(objects.filter((o) => o.kind === 'CustomResourceDefinition')).toHaveLength(3);
    }
  });

  it('grant the same RBAC as the chart', async () => {
    const chartRole = only<ClusterRole>(parseObjects(await helmTemplate()), 'ClusterRole');
    const kustomizeRole = only<ClusterRole>(parseObjects(await kustomize('kustomize/base/fledge')), 'ClusterRole');
    expect(kustomizeRole.rules).toEqual(chartRole.rules);
  });

  it('are accepted by the API server (server-side dry run) when re-namespaced', async () => {
    const ns = await createTestNamespace('kustomize');
    for (const overlay of ['kustomize/gatewayapi', 'kustomize/kubernetes']) {
      // The user's way of installing elsewhere: an overlay of the overlay with its own namespace.
      // kustomize wants a relative path to the overlay.
      const dir = path.dirname(tempFile('kustomization.yaml', ''));
      const relative = path.relative(dir, path.join(root, overlay));
      writeFileSync(path.join(dir, 'kustomization.yaml'), `namespace: ${ns}\nresources:\n  - ${relative}\n`);
      const manifests = (await kubectl(['kustomize', dir])).stdout;

      const objects = parseObjects(manifests);
      expect(only(objects, 'Namespace').metadata.name).toBe(ns);
      expect(only<ClusterRoleBinding>(objects, 'ClusterRoleBinding').subjects).toEqual([
        { kind: 'ServiceAccount', name: 'fledge', namespace: ns },
      ]);

      const out = await serverDryRun(manifests, ns);
      expect(out).toMatch(/^deployment\.apps\/fledge \S+ \(server dry run\)$/m);
      expect(out).toMatch(/^clusterrolebinding\.rbac\.authorization\.k8s\.io\/fledge \S+ \(server dry run\)$/m);
    }
  });
});
