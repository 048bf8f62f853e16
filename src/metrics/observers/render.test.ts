import { describe, expect, it } from 'vitest';
import type { MetricModel } from './observer.ts';
import { TemplateError, renderQuery } from './render.ts';

const model: MetricModel = {
  name: 'podinfo-canary',
  namespace: 'test',
  target: 'podinfo',
  service: 'podinfo-svc',
  ingress: 'podinfo-ing',
  route: 'podinfo-route',
  interval: '2m',
  variables: { reporter: 'destination', code_regex: '5.*' },
};

describe('renderQuery', () => {
  it('renders every model function', () => {
    expect(
      renderQuery(
        '{{ name }}|{{namespace}}|{{ target }}|{{ service }}|{{ ingress }}|{{ route }}|{{ interval }}',
        model,
      ),
    ).toBe('podinfo-canary|test|podinfo|podinfo-svc|podinfo-ing|podinfo-route|2m');
  });

  it('renders variables by key', () => {
    expect(renderQuery('x{reporter="{{ variables.reporter }}",code=~"{{ variables.code_regex }}"}', model)).toBe(
      'x{reporter="destination",code=~"5.*"}',
    );
  });

  it('keeps text outside actions, including single braces and newlines', () => {
    const query = 'sum(rate(x{a="{{ target }}-primary"}[{{ interval }}]))\n/ 100';
    expect(renderQuery(query, model)).toBe('sum(rate(x{a="podinfo-primary"}[2m]))\n/ 100');
  });

  it('fails on a missing variable, naming the key', () => {
    expect(() => renderQuery('{{ variables.missing }}', model)).toThrow(TemplateError);
    expect(() => renderQuery('a\n{{ variables.missing }}', model)).toThrow(
      'template: line 2: executing {{ variables.missing }}: map has no entry for key "missing"',
    );
  });

  it('fails on an unknown function like Go does', () => {
    expect(() => renderQuery('{{ canary }}', model)).toThrow('function "canary" not defined');
  });

  it('rejects Go field syntax: the model is only exposed as functions', () => {
    expect(() => renderQuery('{{ .Name }}', model)).toThrow(/unsupported action \{\{ \.Name \}\}/);
  });

  it('rejects pipelines rather than rendering them wrongly', () => {
    expect(() => renderQuery('{{ target | printf "%s" }}', model)).toThrow(/unsupported action/);
  });

  it('fails on an unclosed action', () => {
    expect(() => renderQuery('up{a="{{ target "}', model)).toThrow('template: line 1: unclosed action');
  });

  it('drops comments and honours trim markers', () => {
    expect(renderQuery('a {{/* note */}}b', model)).toBe('a b');
    expect(renderQuery('a   {{- target -}}   b', model)).toBe('apodinfob');
    expect(renderQuery('a {{- /* x */ -}}\n  b', model)).toBe('ab');
  });

  it('does not read inherited properties as variables', () => {
    expect(() => renderQuery('{{ variables.toString }}', model)).toThrow('map has no entry for key "toString"');
  });
});
