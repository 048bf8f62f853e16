import { OperatorError } from '../../../core/errors.ts';

/** One problem found in an object: the field path (`spec.analysis.stepWeight`) and what is wrong with it. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A Flagger object (or a value in it) is malformed. Terminal: retrying with the same object fails
 * again, so callers record an Event and wait for the object to change. The message lists every issue
 * as `<path>: <problem>`, separated by `; `.
 */
export class ValidationError extends OperatorError {
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[], options?: { cause?: unknown }) {
    super(issues.map(formatIssue).join('; '), options);
    this.issues = issues;
  }
}

function formatIssue(issue: ValidationIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}
