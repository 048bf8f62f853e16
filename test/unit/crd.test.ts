/**
 * Checks of `artifacts/flagger/crd.yaml`: Flagger-compatible names, columns, enums and validation;
 * structural-schema rules of the API server; enums equal to the TypeScript unions; the parser and the
 * schema agree on what they reject; and the chart/kustomize copies are identical to the source.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll, YAML11_SCHEMA } from 'js-yaml';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { CRD_COPIES, CRD_SOURCE, repoRoot, staleCopies, syncCrds } from '../../scripts/sync-crds.ts';
import { ValidationError } from '../../src/apis/flagger/v1beta1/errors.ts';
import { example, withField } from '../../src/apis/flagger/v1beta1/examples.fixture.ts';
import type { ExampleName } from '../../src/apis/flagger/v1beta1/examples.fixture.ts';
import { DURATION_PATTERN, parseCanary } from '../../src/apis/flagger/v1beta1/parse.ts';
import {
  alertProviderTypes,
  alertSeverities,
  autoscalerKinds,
  canaryPhases,
  checkKinds,
  conditionStatuses,
  h2UpgradePolicies,
  meshProviders,
  metricNoDataPolicies,
  metricProviderTypes,
  sameSiteModes,
  simpleLoadBalancers,
  targetKinds,
  tlsModes,
  trafficDistributions,
  webhookTypes,
} from '../../src/apis/flagger/v1beta1/types.ts';
import type { MeshProvider } from '../../src/apis/flagger/v1beta1/types.ts';

// --- loading --------------------------------------------------------------------------------

interface Schema {
  readonly type?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: Schema | boolean;
  readonly items?: Schema;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly format?: string;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly maxItems?: number;
  readonly oneOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
  readonly allOf?: readonly Schema[];
  readonly not?: Schema;
  readonly nullable?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-validations'?: readonly { readonly rule: string; readonly message?: string }[];
}

interface PrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly jsonPath: string;
  readonly priority?: number;
}

interface Crd {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec: {
    readonly group: string;
    readonly scope: string;
    readonly names: {
      readonly kind: string;
      readonly listKind: string;
      readonly plural: string;
      readonly singular: string;
      readonly categories?: readonly string[];
      readonly shortNames?: readonly string[];
    };
    readonly versions: readonly {
      readonly name: string;
      readonly served: boolean;
      readonly storage: boolean;
      readonly subresources?: { readonly status?: object };
      readonly additionalPrinterColumns?: readonly PrinterColumn[];
      readonly schema: { readonly openAPIV3Schema: Schema };
    }[];
  };
}

const sourceText = readFileSync(join(repoRoot, CRD_SOURCE), 'utf8');
// The YAML is plain data; the structural checks below verify every node this cast promises.
const crds = loadAll(sourceText) as Crd[];

function crd(plural: string): Crd {
  const found = crds.find((c) => c.spec.names.plural === plural);
  if (found === undefined) throw new Error(`no CRD for ${plural}`);
  return found;
}

function rootSchema(plural: string): Schema {
  const version = crd(plural).spec.versions[0];
  if (version === undefined) throw new Error(`no version in ${plural}`);
  return version.schema.openAPIV3Schema;
}

/** The schema node at a path like `spec.analysis.webhooks[].type` (`[]` = array items). */
function at(plural: string, path: string): Schema {
  let node = rootSchema(plural);
  for (const part of path.split('.')) {
    const name = part.endsWith('[]') ? part.slice(0, -2) : part;
    const next = node.properties?.[name];
    if (next === undefined) throw new Error(`${plural}: no schema at ${path} (${name})`);
    node = next;
    if (part.endsWith('[]')) {
      if (node.items === undefined) throw new Error(`${plural}: ${path}: ${name} is not an array`);
      node = node.items;
    }
  }
  return node;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// --- a small OpenAPI validator with the API server's semantics ------------------------------

/** Validates like the API server after pruning (unknown fields and nulls ignored); CEL rules are skipped. */
function validate(s: Schema, v: unknown, path = ''): string[] {
  if (v === null || v === undefined) return [];
  const errors: string[] = [];
  const typeError = (want: string): string[] => [`${path}: must be of type ${want}`];
  if (s['x-kubernetes-int-or-string'] === true && !(typeof v === 'string' || Number.isInteger(v))) {
    return typeError('int-or-string');
  }
  switch (s.type) {
    case 'object':
      if (!isRecord(v)) return typeError('object');
      break;
    case 'array':
      if (!Array.isArray(v)) return typeError('array');
      break;
    case 'string':
      if (typeof v !== 'string') return typeError('string');
      break;
    case 'integer':
      if (!Number.isInteger(v)) return typeError('integer');
      break;
    case 'number':
      if (typeof v !== 'number') return typeError('number');
      break;
    case 'boolean':
      if (typeof v !== 'boolean') return typeError('boolean');
      break;
  }
  if (s.enum !== undefined && !s.enum.includes(v)) errors.push(`${path}: Unsupported value`);
  if (typeof v === 'string') {
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(v)) errors.push(`${path}: should match ${s.pattern}`);
    if (s.minLength !== undefined && v.length < s.minLength) errors.push(`${path}: too short`);
    if (s.maxLength !== undefined && v.length > s.maxLength) errors.push(`${path}: too long`);
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) errors.push(`${path}: below minimum`);
    if (s.maximum !== undefined && v > s.maximum) errors.push(`${path}: above maximum`);
  }
  if (isRecord(v)) {
    for (const r of s.required ?? [])
      if (v[r] === undefined || v[r] === null) errors.push(`${path}.${r}: Required value`);
    for (const [key, child] of Object.entries(v)) {
      const sub =
        s.properties?.[key] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (sub !== undefined) errors.push(...validate(sub, child, `${path}.${key}`));
    }
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) errors.push(`${path}: too many items`);
    const items = s.items;
    if (items !== undefined) v.forEach((item: unknown, i) => errors.push(...validate(items, item, `${path}[${i}]`)));
  }
  const passes = (branch: Schema): boolean => validate(branch, v, path).length === 0;
  if (s.oneOf !== undefined && s.oneOf.filter(passes).length !== 1) {
    errors.push(`${path}: must validate one and only one schema (oneOf)`);
  }
  if (s.anyOf !== undefined && !s.anyOf.some(passes)) errors.push(`${path}: must validate at least one schema (anyOf)`);
  if (s.allOf !== undefined && !s.allOf.every(passes)) errors.push(`${path}: must validate all schemas (allOf)`);
  if (s.not !== undefined && passes(s.not)) errors.push(`${path}: must not validate the schema (not)`);
  return errors;
}

// --- structural schema rules ----------------------------------------------------------------

const types = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
const keywords = new Set([
  'type',
  'description',
  'properties',
  'additionalProperties',
  'items',
  'required',
  'enum',
  'pattern',
  'format',
  'default',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'maxItems',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
]);
const forbiddenInJunctors = [
  'type',
  'description',
  'default',
  'additionalProperties',
  'nullable',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
];

function junctors(s: Schema): Schema[] {
  return [...(s.oneOf ?? []), ...(s.anyOf ?? []), ...(s.allOf ?? []), ...(s.not === undefined ? [] : [s.not])];
}

/** Value validations inside oneOf/anyOf/allOf/not may only constrain fields the structural node declares. */
function junctorProblems(j: Schema, structural: Schema | undefined, path: string): string[] {
  const problems: string[] = [];
  for (const key of forbiddenInJunctors) if (key in j) problems.push(`${path}: ${key} inside a junctor`);
  for (const r of j.required ?? []) {
    if (structural?.properties?.[r] === undefined) problems.push(`${path}: junctor requires undeclared ${r}`);
  }
  for (const [key, sub] of Object.entries(j.properties ?? {})) {
    const declared = structural?.properties?.[key];
    if (declared === undefined) problems.push(`${path}: junctor constrains undeclared ${key}`);
    problems.push(...junctorProblems(sub, declared, `${path}.${key}`));
  }
  if (j.items !== undefined) problems.push(...junctorProblems(j.items, structural?.items, `${path}[]`));
  for (const nested of junctors(j)) problems.push(...junctorProblems(nested, structural, path));
  return problems;
}

function structuralProblems(s: Schema, path: string): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(s)) if (!keywords.has(key)) problems.push(`${path}: unknown keyword ${key}`);
  if (s['x-kubernetes-int-or-string'] === true) {
    if (s.type !== undefined) problems.push(`${path}: int-or-string with a type`);
  } else if (s.type === undefined) {
    if (s['x-kubernetes-preserve-unknown-fields'] !== true) problems.push(`${path}: no type`);
  } else if (!types.has(s.type)) {
    problems.push(`${path}: unknown type ${s.type}`);
  }
  if (s.type === 'array' && s.items === undefined) problems.push(`${path}: array without items`);
  if (s.type !== 'array' && s.items !== undefined) problems.push(`${path}: items on a ${s.type}`);
  if (s.type !== 'object' && (s.properties !== undefined || s.additionalProperties !== undefined)) {
    problems.push(`${path}: properties on a ${s.type}`);
  }
  if (s.properties !== undefined && s.additionalProperties !== undefined) {
    problems.push(`${path}: both properties and additionalProperties`);
  }
  if (typeof s.additionalProperties === 'boolean') problems.push(`${path}: additionalProperties must be a schema`);
  for (const r of s.required ?? [])
    if (s.properties?.[r] === undefined) problems.push(`${path}: requires undeclared ${r}`);
  for (const value of s.enum ?? []) {
    if (validate({ ...(s.type === undefined ? {} : { type: s.type }) }, value).length > 0) {
      problems.push(`${path}: enum value ${JSON.stringify(value)} is not a ${s.type}`);
    }
  }
  if (s.pattern !== undefined) {
    try {
      new RegExp(s.pattern);
    } catch {
      problems.push(`${path}: invalid pattern`);
    }
  }
  if ('default' in s && validate(s, s.default).length > 0) problems.push(`${path}: default does not validate`);
  for (const [key, sub] of Object.entries(s.properties ?? {}))
    problems.push(...structuralProblems(sub, `${path}.${key}`));
  if (typeof s.additionalProperties === 'object') {
    problems.push(...structuralProblems(s.additionalProperties, `${path}{}`));
  }
  if (s.items !== undefined) problems.push(...structuralProblems(s.items, `${path}[]`));
  for (const j of junctors(s)) problems.push(...junctorProblems(j, s, path));
  return problems;
}

/** Paths of every property whose description starts with `prefix`. */
function describedPaths(s: Schema, prefix: string, path = ''): string[] {
  const here = s.description?.startsWith(prefix) === true ? [path] : [];
  const below = Object.entries(s.properties ?? {}).flatMap(([key, sub]) =>
    describedPaths(sub, prefix, path === '' ? key : `${path}.${key}`),
  );
  const items = s.items === undefined ? [] : describedPaths(s.items, prefix, `${path}[]`);
  return [...here, ...below, ...items];
}

function schemaPaths(s: Schema, keyword: keyof Schema, path = ''): string[] {
  const here = keyword in s ? [path] : [];
  const below = Object.entries(s.properties ?? {}).flatMap(([key, sub]) =>
    schemaPaths(sub, keyword, path === '' ? key : `${path}.${key}`),
  );
  const extra =
    typeof s.additionalProperties === 'object' ? schemaPaths(s.additionalProperties, keyword, `${path}{}`) : [];
  const items = s.items === undefined ? [] : schemaPaths(s.items, keyword, `${path}[]`);
  return [...here, ...below, ...extra, ...items];
}

const plurals = ['canaries', 'metrictemplates', 'alertproviders'];

// --- tests ----------------------------------------------------------------------------------

describe('artifacts/flagger/crd.yaml', () => {
  it('defines the three Flagger CRDs like Flagger does', () => {
    expect(crds.map((c) => c.metadata.name)).toEqual([
      'canaries.flagger.app',
      'metrictemplates.flagger.app',
      'alertproviders.flagger.app',
    ]);
    const kinds = { canaries: 'Canary', metrictemplates: 'MetricTemplate', alertproviders: 'AlertProvider' };
    for (const [plural, kind] of Object.entries(kinds)) {
      const c = crd(plural);
      expect(c.apiVersion).toBe('apiextensions.k8s.io/v1');
      expect(c.kind).toBe('CustomResourceDefinition');
      expect(c.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
      expect(c.spec.group).toBe('flagger.app');
      expect(c.spec.scope).toBe('Namespaced');
      expect(c.spec.names).toEqual({
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        categories: ['all'],
      });
      expect(c.spec.versions).toHaveLength(1);
      expect(c.spec.versions[0]).toMatchObject({
        name: 'v1beta1',
        served: true,
        storage: true,
        subresources: { status: {} },
      });
    }
  });

  it('means the same under YAML 1.1 (the API server) and YAML 1.2', () => {
    expect(loadAll(sourceText, { schema: YAML11_SCHEMA })).toEqual(crds);
  });

  it('has Flagger printer columns', () => {
    const columns = (plural: string): PrinterColumn[] => [
      ...(crd(plural).spec.versions[0]?.additionalPrinterColumns ?? []),
    ];
    expect(columns('canaries')).toEqual([
      { name: 'Status', type: 'string', jsonPath: '.status.phase' },
      { name: 'Weight', type: 'string', jsonPath: '.status.canaryWeight' },
      { name: 'Suspended', type: 'boolean', jsonPath: '.spec.suspend', priority: 1 },
      { name: 'FailedChecks', type: 'string', jsonPath: '.status.failedChecks', priority: 1 },
      { name: 'Interval', type: 'string', jsonPath: '.spec.analysis.interval', priority: 1 },
      { name: 'Mirror', type: 'boolean', jsonPath: '.spec.analysis.mirror', priority: 1 },
      { name: 'StepWeight', type: 'string', jsonPath: '.spec.analysis.stepWeight', priority: 1 },
      { name: 'StepWeights', type: 'string', jsonPath: '.spec.analysis.stepWeights', priority: 1 },
      { name: 'MaxWeight', type: 'string', jsonPath: '.spec.analysis.maxWeight', priority: 1 },
      { name: 'LastTransitionTime', type: 'string', jsonPath: '.status.lastTransitionTime' },
    ]);
    expect(columns('metrictemplates')).toEqual([{ name: 'Provider', type: 'string', jsonPath: '.spec.provider.type' }]);
    expect(columns('alertproviders')).toEqual([{ name: 'Type', type: 'string', jsonPath: '.spec.type' }]);
    for (const plural of plurals) {
      for (const column of columns(plural)) {
        const node = at(plural, column.jsonPath.slice(1));
        if (column.type === 'boolean') expect(node.type, column.name).toBe('boolean');
      }
    }
  });

  describe('structural schema', () => {
    it.each(plurals)('%s: every node has a type and junctors only constrain declared fields', (plural) => {
      expect(structuralProblems(rootSchema(plural), plural)).toEqual([]);
    });

    it.each(plurals)('%s: metadata is a plain object and the root has the standard fields', (plural) => {
      const root = rootSchema(plural);
      expect(root.type).toBe('object');
      expect(Object.keys(root.properties ?? {})).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
      expect(root.properties?.['metadata']).toEqual({ type: 'object' });
    });

    it('finds problems in a broken schema (the checker itself can fail)', () => {
      const broken: Schema = {
        type: 'object',
        required: ['b'],
        properties: { a: { description: 'no type' }, list: { type: 'array' } },
        oneOf: [{ required: ['c'] }, { type: 'string' }],
      };
      expect(structuralProblems(broken, 'x')).toEqual([
        'x: requires undeclared b',
        'x.a: no type',
        'x.list: array without items',
        'x: junctor requires undeclared c',
        'x: type inside a junctor',
      ]);
    });

    it('has no free-form objects (Flagger has none)', () => {
      for (const plural of plurals) {
        expect(schemaPaths(rootSchema(plural), 'x-kubernetes-preserve-unknown-fields')).toEqual([]);
      }
    });

    it('uses int-or-string only for service.targetPort', () => {
      expect(schemaPaths(rootSchema('canaries'), 'x-kubernetes-int-or-string')).toEqual(['spec.service.targetPort']);
    });

    it('sets defaults only where Flagger does', () => {
      expect(schemaPaths(rootSchema('canaries'), 'default').sort()).toEqual(
        [
          'spec.analysis.sessionAffinity.maxAge',
          'spec.canaryAnalysis.sessionAffinity.maxAge',
          'spec.service.gatewayRefs[].group',
          'spec.service.gatewayRefs[].kind',
          'spec.service.mirror[].backendRef.group',
          'spec.service.mirror[].backendRef.kind',
        ].sort(),
      );
      expect(at('canaries', 'spec.analysis.sessionAffinity.maxAge').default).toBe(86400);
    });
  });

  describe('enums equal the TypeScript unions', () => {
    expectTypeOf<MeshProvider>().toEqualTypeOf<(typeof meshProviders)[number]>();

    it.each<[string, string, readonly string[]]>([
      ['canaries', 'spec.provider', meshProviders],
      ['canaries', 'spec.targetRef.kind', targetKinds],
      ['canaries', 'spec.autoscalerRef.kind', autoscalerKinds],
      ['canaries', 'spec.analysis.webhooks[].type', webhookTypes],
      ['canaries', 'spec.analysis.metrics[].noData', metricNoDataPolicies],
      ['canaries', 'spec.analysis.alerts[].severity', alertSeverities],
      ['canaries', 'spec.analysis.sessionAffinity.sameSite', sameSiteModes],
      ['canaries', 'spec.service.trafficDistribution', trafficDistributions],
      ['canaries', 'spec.service.trafficPolicy.tls.mode', tlsModes],
      ['canaries', 'spec.service.trafficPolicy.loadBalancer.simple', simpleLoadBalancers],
      ['canaries', 'spec.service.trafficPolicy.connectionPool.http.h2UpgradePolicy', h2UpgradePolicies],
      ['canaries', 'status.phase', canaryPhases],
      ['canaries', 'status.conditions[].status', conditionStatuses],
      ['canaries', 'status.checks[].kind', checkKinds],
      ['metrictemplates', 'spec.provider.type', metricProviderTypes],
      ['alertproviders', 'spec.type', alertProviderTypes],
    ])('%s %s', (plural, path, members) => {
      const values = at(plural, path).enum ?? [];
      expect(new Set(members).size).toBe(members.length);
      expect([...values].sort()).toEqual([...members].sort());
    });

    it('single-valued reference kinds', () => {
      expect(at('canaries', 'spec.ingressRef.kind').enum).toEqual(['Ingress']);
      expect(at('canaries', 'spec.routeRef.kind').enum).toEqual(['ApisixRoute']);
      expect(at('canaries', 'spec.upstreamRef.kind').enum).toEqual(['Upstream']);
    });
  });

  describe('Flagger validation rules', () => {
    it('requires targetRef and analysis, and a service port', () => {
      expect(at('canaries', 'spec').required).toEqual(['targetRef', 'analysis']);
      expect(at('canaries', 'spec.service').required).toEqual(['port']);
      expect(at('canaries', 'spec.targetRef').required).toEqual(['apiVersion', 'kind', 'name']);
      expect(at('canaries', 'spec.analysis.webhooks[]').required).toEqual(['name', 'url']);
      expect([...(at('canaries', 'spec.analysis.alerts[]').required ?? [])].sort()).toEqual(['name', 'providerRef']);
      expect(at('canaries', 'spec.analysis.metrics[]').required).toEqual(['name']);
      expect(at('canaries', 'spec.analysis.sessionAffinity').required).toEqual(['cookieName']);
      expect(at('metrictemplates', 'spec').required).toEqual(['provider', 'query']);
    });

    it('has the analysis and AlertProvider oneOf rules', () => {
      expect(at('canaries', 'spec.analysis').oneOf).toEqual([
        { required: ['interval', 'threshold', 'iterations'] },
        { required: ['interval', 'threshold', 'stepWeight'] },
        { required: ['interval', 'threshold', 'stepWeights'] },
      ]);
      expect(at('alertproviders', 'spec').oneOf).toEqual([
        { required: ['type', 'address'] },
        { required: ['type', 'secretRef'] },
      ]);
    });

    it('uses the Flagger duration pattern, also in the parser', () => {
      for (const path of [
        'spec.analysis.interval',
        'spec.analysis.metrics[].interval',
        'spec.analysis.webhooks[].timeout',
      ]) {
        expect(at('canaries', path).pattern, path).toBe('^[0-9]+(m|s)');
      }
      expect(DURATION_PATTERN.source).toBe('^[0-9]+(m|s)');
      expect(at('canaries', 'spec.analysis.webhooks[].url').format).toBe('url');
    });

    it('keeps the deprecated canaryAnalysis identical to analysis but for its description', () => {
      const { description: current, ...analysis } = at('canaries', 'spec.analysis');
      const { description: legacy, ...canaryAnalysis } = at('canaries', 'spec.canaryAnalysis');
      expect(canaryAnalysis).toEqual(analysis);
      expect(legacy).toMatch(/^Deprecated/);
      expect(current).not.toMatch(/^Deprecated/);
    });

    it('keeps the status fields Flagger writes', () => {
      expect(Object.keys(at('canaries', 'status').properties ?? {})).toEqual(
        expect.arrayContaining([
          'phase',
          'failedChecks',
          'canaryWeight',
          'iterations',
          'trackedConfigs',
          'lastAppliedSpec',
          'lastPromotedSpec',
          'lastTransitionTime',
          'sessionAffinityCookie',
          'primarySessionAffinityCookie',
          'previousSessionAffinityCookie',
          'conditions',
        ]),
      );
      expect(at('canaries', 'status.trackedConfigs').additionalProperties).toEqual({ type: 'string' });
      expect(at('canaries', 'status.conditions[]').required).toEqual(['type', 'status', 'reason']);
    });
  });

  describe('Fledge extensions', () => {
    it('are exactly the documented fields, each described as such', () => {
      expect(describedPaths(rootSchema('canaries'), 'Fledge extension:').sort()).toEqual(
        [
          'spec.analysis.metrics[].dryRun',
          'spec.analysis.metrics[].minSamples',
          'spec.analysis.metrics[].noData',
          'spec.analysis.metrics[].sampleQuery',
          'spec.analysis.releaseWindows',
          'spec.analysis.webhooks[].headersSecretRef',
          'spec.canaryAnalysis.metrics[].dryRun',
          'spec.canaryAnalysis.metrics[].minSamples',
          'spec.canaryAnalysis.metrics[].noData',
          'spec.canaryAnalysis.metrics[].sampleQuery',
          'spec.canaryAnalysis.releaseWindows',
          'spec.canaryAnalysis.webhooks[].headersSecretRef',
          'status.checks',
          'status.conditions[].observedGeneration',
          'status.conditions[].type',
          'status.observedGeneration',
        ].sort(),
      );
      for (const plural of ['metrictemplates', 'alertproviders']) {
        expect(describedPaths(rootSchema(plural), 'Fledge extension:')).toEqual([]);
      }
    });

    it('are optional, and condition types are free strings', () => {
      expect(at('canaries', 'status').required).toBeUndefined();
      expect(at('canaries', 'status.conditions[]').required).not.toContain('observedGeneration');
      expect(at('canaries', 'status.conditions[].type')).not.toHaveProperty('enum');
      expect(at('canaries', 'status.observedGeneration').type).toBe('integer');
    });

    it('describe checks as name, kind, value, min, max, passed, message, query, lastUpdateTime', () => {
      const check = at('canaries', 'status.checks[]');
      const shape = Object.fromEntries(Object.entries(check.properties ?? {}).map(([k, v]) => [k, v.format ?? v.type]));
      expect(shape).toEqual({
        name: 'string',
        kind: 'string',
        value: 'number',
        min: 'number',
        max: 'number',
        passed: 'boolean',
        message: 'string',
        query: 'string',
        lastUpdateTime: 'date-time',
      });
      expect(check.required).toEqual(['name', 'kind', 'passed', 'message', 'lastUpdateTime']);
    });
  });
});

describe('schema and parser agree', () => {
  const canarySchema = rootSchema('canaries');
  const examples: ExampleName[] = [
    'istioCanary',
    'abTesting',
    'blueGreen',
    'gatewayApi',
    'stepWeights',
    'nginx',
    'knative',
    'withStatus',
  ];

  it.each(examples)('the CRD accepts the %s example', (name) => {
    expect(validate(canarySchema, example(name))).toEqual([]);
  });

  it('the CRD accepts the MetricTemplate and AlertProvider examples', () => {
    expect(validate(rootSchema('metrictemplates'), example('metricTemplate'))).toEqual([]);
    expect(validate(rootSchema('alertproviders'), example('alertProvider'))).toEqual([]);
    const both = withField(example('alertProvider'), 'spec.address', 'https://hooks.slack.com/x');
    expect(validate(rootSchema('alertproviders'), both)).toEqual([
      '.spec: must validate one and only one schema (oneOf)',
    ]);
  });

  it('the CRD rejects stepWeight "ten" and provider bogus', () => {
    expect(validate(canarySchema, withField(example('istioCanary'), 'spec.analysis.stepWeight', 'ten'))).toEqual([
      '.spec.analysis.stepWeight: must be of type integer',
    ]);
    expect(validate(canarySchema, withField(example('istioCanary'), 'spec.provider', 'bogus'))).toEqual([
      '.spec.provider: Unsupported value',
    ]);
  });

  it.each<[string, unknown, ExampleName]>([
    ['spec.analysis.stepWeight', 'ten', 'istioCanary'],
    ['spec.provider', 'bogus', 'istioCanary'],
    ['spec.targetRef.kind', 'StatefulSet', 'istioCanary'],
    ['spec.targetRef', undefined, 'istioCanary'],
    ['spec.analysis', undefined, 'istioCanary'],
    ['spec.analysis.interval', 'often', 'istioCanary'],
    ['spec.analysis.iterations', 5, 'istioCanary'],
    ['spec.analysis.threshold', undefined, 'istioCanary'],
    ['spec.analysis.metrics.0.interval', '1h', 'istioCanary'],
    ['spec.analysis.webhooks.0.timeout', 'forever', 'istioCanary'],
    ['spec.analysis.webhooks.0.type', 'pre', 'istioCanary'],
    ['spec.analysis.webhooks.0.url', undefined, 'istioCanary'],
    ['spec.analysis.alerts.0.severity', 'critical', 'istioCanary'],
    ['spec.service.port', undefined, 'istioCanary'],
    ['spec.service.port', -1, 'istioCanary'],
    ['spec.service.port', 0, 'istioCanary'],
    ['spec.service.port', 70000, 'istioCanary'],
    ['spec.service.port', 2147483647, 'istioCanary'],
    ['spec.analysis.stepWeight', -5, 'istioCanary'],
    ['spec.analysis.maxWeight', -1, 'istioCanary'],
    ['spec.analysis.maxWeight', 150, 'istioCanary'],
    ['spec.analysis.stepWeights', [0, 50], 'stepWeights'],
    ['spec.analysis.stepWeightPromotion', -10, 'istioCanary'],
    ['spec.analysis.iterations', -1, 'blueGreen'],
    ['spec.service.targetPort', true, 'istioCanary'],
    ['spec.service.trafficPolicy.loadBalancer', { localityLbSetting: { enabled: true } }, 'istioCanary'],
    ['spec.service.match.0.uri', { exact: '/', regex: '.*' }, 'abTesting'],
    ['spec.analysis.match.0.headers.x-canary', { exact: 'a', suffix: 'b' }, 'abTesting'],
    ['spec.analysis.sessionAffinity.sameSite', 'Loose', 'gatewayApi'],
    ['spec.service.gatewayRefs.0.port', 0, 'gatewayApi'],
    ['status.phase', 'Done', 'withStatus'],
    ['status.checks.0.kind', 'probe', 'withStatus'],
  ])('both reject %s = %j', (path, value, base) => {
    const manifest = withField(example(base), path, value);
    expect(validate(canarySchema, manifest)).not.toEqual([]);
    expect(() => parseCanary(manifest)).toThrow(ValidationError);
  });

  it.each<[string, unknown, ExampleName]>([
    ['spec.analysis.stepWeights', [30, 20], 'stepWeights'],
    ['spec.service.targetPort', 70000, 'istioCanary'],
    ['spec.service.targetPort', -1, 'istioCanary'],
    ['spec.service.targetPort', 'Not_A_Port_Name', 'istioCanary'],
    ['spec.analysis.sessionAffinity.primaryCookieName', 'flagger-cookie', 'gatewayApi'],
    ['spec.analysis.webhooks.0.url', 'flagger-loadtester', 'istioCanary'],
  ])('only the parser rejects %s = %j (checks Flagger makes in code)', (path, value, base) => {
    const manifest = withField(example(base), path, value);
    expect(validate(canarySchema, manifest)).toEqual([]);
    expect(() => parseCanary(manifest)).toThrow(ValidationError);
  });

  it('both ignore unknown fields', () => {
    const manifest = withField(example('istioCanary'), 'spec.service.someFutureField', { x: 1 });
    expect(validate(canarySchema, manifest)).toEqual([]);
    expect(parseCanary(manifest).spec.service?.port).toBe(9898);
  });
});

describe('CRD copies', () => {
  it('charts/ and kustomize/ copies are identical to the source (run `npm run crd`)', () => {
    for (const copy of CRD_COPIES) {
      expect(readFileSync(join(repoRoot, copy), 'utf8'), copy).toBe(sourceText);
    }
    expect(staleCopies()).toEqual([]);
  });

  describe('sync-crds', () => {
    const root = mkdtempSync(join(tmpdir(), 'fledge-crd-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('writes missing and stale copies and then reports none', () => {
      mkdirSync(join(root, 'artifacts/flagger'), { recursive: true });
      cpSync(join(repoRoot, CRD_SOURCE), join(root, CRD_SOURCE));
      expect(staleCopies(root)).toEqual([...CRD_COPIES]);
      expect(syncCrds(root)).toEqual([...CRD_COPIES]);
      expect(staleCopies(root)).toEqual([]);
      writeFileSync(join(root, 'kustomize/base/fledge/crd.yaml'), '# edited\n');
      expect(staleCopies(root)).toEqual(['kustomize/base/fledge/crd.yaml']);
      expect(syncCrds(root)).toEqual(['kustomize/base/fledge/crd.yaml']);
      expect(readFileSync(join(root, 'kustomize/base/fledge/crd.yaml'), 'utf8')).toBe(sourceText);
    });
  });
});
