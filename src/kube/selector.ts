import { OperatorError } from '../core/errors.ts';

/** A compiled label selector. */
export type LabelMatcher = (labels: Readonly<Record<string, string>> | undefined) => boolean;

/**
 * Compiles a Kubernetes label selector string: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
 * `a notin (x,y)`, joined by commas (all must hold). An empty selector matches everything.
 * Throws {@link OperatorError} on syntax the API server would reject.
 */
export function parseLabelSelector(selector: string): LabelMatcher {
  const terms = splitTerms(selector).map(parseTerm);
  return (labels) => terms.every((t) => t(labels ?? {}));
}

type Term = (labels: Readonly<Record<string, string>>) => boolean;

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function parseTerm(term: string): Term {
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in'
      ? (l) => l[key] !== undefined && values.has(l[key])
      : (l) => l[key] === undefined || !values.has(l[key]);
  }
  const eq = /^([^!=\s]+)\s*(==|=|!=)\s*([^!=\s]*)$/.exec(term);
  if (eq) {
    const [, key = '', op, value = ''] = eq;
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  const exists = /^(!?)([^!=\s()]+)$/.exec(term);
  if (exists) {
    const [, not, key = ''] = exists;
    return not ? (l) => l[key] === undefined : (l) => l[key] !== undefined;
  }
  throw new OperatorError(`invalid label selector term "${term}"`);
}
