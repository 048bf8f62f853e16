import { describe, expect, it } from 'vitest';
import { OperatorError } from '../core/errors.ts';
import { newCanary } from './fixtures.fixture.ts';
import {
  canaryOwnerRef,
  filterAnnotations,
  includeLabelsByPrefix,
  makePrimaryLabels,
  parseIncludeLabelPrefix,
} from './util.ts';

describe('parseIncludeLabelPrefix', () => {
  it.each<[string | readonly string[] | undefined, string[]]>([
    [undefined, []],
    ['', []],
    ['*', ['*']],
    ['app.kubernetes.io, team ,', ['app.kubernetes.io', 'team']],
    [
      ['a', ' b '],
      ['a', 'b'],
    ],
  ])('%j → %j', (input, expected) => {
    expect(parseIncludeLabelPrefix(input)).toEqual(expected);
  });
});

describe('includeLabelsByPrefix', () => {
  const labels = { app: 'x', 'app.kubernetes.io/name': 'x', team: 'a', 'kustomize.toolkit.fluxcd.io/name': 'n' };
  it('keeps keys with a listed prefix, all with *, none by default, never Flux’s', () => {
    expect(includeLabelsByPrefix(labels, ['app.'])).toEqual({ 'app.kubernetes.io/name': 'x' });
    expect(includeLabelsByPrefix(labels, ['*'])).toEqual({ app: 'x', 'app.kubernetes.io/name': 'x', team: 'a' });
    expect(includeLabelsByPrefix(labels, [])).toEqual({});
    expect(includeLabelsByPrefix(labels, ['kustomize'])).toEqual({});
  });
});

describe('makePrimaryLabels', () => {
  it('sets the selector label and drops Flux’s', () => {
    expect(makePrimaryLabels({ app: 'x', v: '1', 'helm.toolkit.fluxcd.io/name': 'h' }, 'app', 'x-primary')).toEqual({
      app: 'x-primary',
      v: '1',
    });
  });
});

describe('filterAnnotations', () => {
  it('drops Flux, kubectl, Deployment-controller and Fledge bookkeeping', () => {
    expect(
      filterAnnotations({
        keep: '1',
        'kustomize.toolkit.fluxcd.io/checksum': 'x',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
        'kubectl.kubernetes.io/restartedAt': 'now',
        'deployment.kubernetes.io/revision': '4',
        'fledge.app/applied-hash': 'h',
      }),
    ).toEqual({ keep: '1', 'kubectl.kubernetes.io/restartedAt': 'now' });
  });
});

describe('canaryOwnerRef', () => {
  it('refuses a Canary without uid (the API server would reject the reference)', () => {
    expect(() => canaryOwnerRef(newCanary({ metadata: { uid: '' } }))).toThrow(OperatorError);
  });
});
