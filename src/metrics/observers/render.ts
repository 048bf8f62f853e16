/**
 * Query templating (Flagger pkg/metrics/observers/render.go): the subset of Go `text/template` that
 * MetricTemplates and builtin queries use. Flagger executes templates with no data and exposes the
 * model as functions, so `{{ name }}` works and `{{ .Name }}` does not; missing keys are errors
 * (`missingkey=error`). Supported actions:
 *
 * - `{{ name }}`, `{{ namespace }}`, `{{ target }}`, `{{ service }}`, `{{ ingress }}`, `{{ route }}`,
 *   `{{ interval }}`;
 * - `{{ variables.<key> }}` (the metric's `templateVariables`);
 * - comments `{{/* … *\/}}` and the trim markers `{{- ` and ` -}}`.
 *
 * Anything else (pipelines, `if`, `range`, other functions) is rejected with an error rather than
 * rendered wrongly.
 */
import { OperatorError } from '../../core/errors.ts';
import type { MetricModel } from './observer.ts';

/** A template that does not parse or references a missing key. */
export class TemplateError extends OperatorError {}

type ModelFunction = Exclude<keyof MetricModel, 'variables'>;
const FUNCTIONS: readonly ModelFunction[] = ['name', 'namespace', 'target', 'service', 'ingress', 'route', 'interval'];
const isModelFunction = (s: string): s is ModelFunction => (FUNCTIONS as readonly string[]).includes(s);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Renders `template` with `model`; throws TemplateError naming the offending action or key. */
export function renderQuery(template: string, model: MetricModel): string {
  let out = '';
  let pos = 0;
  let trimNext = false;
  while (pos < template.length) {
    const open = template.indexOf('{{', pos);
    let text = open === -1 ? template.slice(pos) : template.slice(pos, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open === -1) {
      out += text;
      break;
    }
    const line = lineOf(template, open);
    const close = template.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError(`template: line ${line}: unclosed action`);
    let inner = template.slice(open + 2, close);
    // Go's trim markers need a space on the inner side: `{{- x -}}`; `{{-3}}` is the number -3.
    if (/^-\s/.test(inner)) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    if (/\s-$/.test(inner)) {
      trimNext = true;
      inner = inner.slice(0, -1);
    }
    out += text;
    out += evaluate(inner.trim(), model, line);
    pos = close + 2;
  }
  return out;
}

function evaluate(action: string, model: MetricModel, line: number): string {
  if (action.startsWith('/*')) {
    if (!action.endsWith('*/')) throw new TemplateError(`template: line ${line}: unclosed comment`);
    return '';
  }
  if (action === '') throw new TemplateError(`template: line ${line}: missing value for command`);
  if (isModelFunction(action)) return model[action];
  const dot = action.indexOf('.');
  const head = dot === -1 ? action : action.slice(0, dot);
  if (head === 'variables' && dot !== -1) {
    const key = action.slice(dot + 1);
    if (!IDENT.test(key)) {
      throw new TemplateError(
        `template: line ${line}: unsupported action {{ ${action} }}: keys must be letters, digits and _`,
      );
    }
    const value = Object.hasOwn(model.variables, key) ? model.variables[key] : undefined;
    if (value === undefined) {
      throw new TemplateError(`template: line ${line}: executing {{ ${action} }}: map has no entry for key "${key}"`);
    }
    return value;
  }
  if (action.startsWith('.')) {
    throw new TemplateError(
      `template: line ${line}: unsupported action {{ ${action} }}: values are functions, e.g. {{ name }}`,
    );
  }
  if (IDENT.test(head) && !isModelFunction(head) && head !== 'variables') {
    throw new TemplateError(`template: line ${line}: function "${head}" not defined`);
  }
  throw new TemplateError(`template: line ${line}: unsupported action {{ ${action} }}`);
}

function lineOf(s: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (s.charCodeAt(i) === 10) line++;
  return line;
}
