import { OperatorError } from '../core/errors.ts';

/** An error answered by the Kubernetes API server. */
export class KubeApiError extends OperatorError {
  readonly status: number;
  readonly reason: string;
  constructor(message: string, status: number, reason: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.reason = reason;
  }
}

/** 404 */
export class NotFoundError extends KubeApiError {}
/** 409 on update (stale resourceVersion); retryOnConflict retries only this. */
export class ConflictError extends KubeApiError {}
/** 409 on create. */
export class AlreadyExistsError extends KubeApiError {}
/** 422: the object fails validation (CRD schema, field validation). */
export class InvalidObjectError extends KubeApiError {}
