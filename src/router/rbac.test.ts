// Every kind a router writes must be granted to the operator by both install paths (Helm chart and
// kustomize), or the first write of a new provider fails with 403 in a real cluster.
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { isRecord } from '../kube/json.ts';
import type { ResourceType } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { routerWrites } from './factory.ts';

const WRITE_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The ClusterRole rules of a manifest file; Helm's `$crud` list and control lines are expanded first. */
function clusterRoleRules(file: string): Rule[] {
  const text = readFileSync(file, 'utf8')
    .replaceAll('{{ join ", " $crud }}', WRITE_VERBS.join(', '))
    .split('\n')
    .filter((line) => !/^\s*\{\{-?.*\}\}\s*$/.test(line))
    .map((line) => line.replace(/\{\{[^}]*\}\}/g, 'x'))
    .join('\n');
  const rules: Rule[] = [];
  for (const doc of text.split(/^---$/m)) {
    const obj = load(doc);
    if (!isRecord(obj) || obj['kind'] !== 'ClusterRole' || !Array.isArray(obj['rules'])) continue;
    for (const r of obj['rules'] as unknown[]) {
      if (!isRecord(r)) continue;
      rules.push({
        apiGroups: strings(r['apiGroups']),
        resources: strings(r['resources']),
        verbs: strings(r['verbs']),
      });
    }
  }
  return rules;
}

function grantedVerbs(rules: readonly Rule[], type: ResourceType): Set<string> {
  const slash = type.apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : type.apiVersion.slice(0, slash);
  const verbs = new Set<string>();
  for (const rule of rules) {
    if (rule.apiGroups.includes(group) && rule.resources.includes(type.plural)) rule.verbs.forEach((v) => verbs.add(v));
  }
  return verbs;
}

it('every kind a router writes is a registered resource type', () => {
  for (const type of routerWrites()) expect(Object.values(Resources)).toContainEqual(type);
});

describe.each([['charts/fledge/templates/rbac.yaml'], ['kustomize/base/fledge/rbac.yaml']])('RBAC in %s', (file) => {
  const rules = clusterRoleRules(file);

  it('has a ClusterRole with rules', () => {
    expect(rules.length).toBeGreaterThan(5);
  });

  it.each(routerWrites().map((t) => [`${t.apiVersion} ${t.kind}`, t] as const))(
    'grants every verb on %s',
    (_, type) => {
      expect([...grantedVerbs(rules, type)].sort()).toEqual(expect.arrayContaining(WRITE_VERBS));
    },
  );
});
