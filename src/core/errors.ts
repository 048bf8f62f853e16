/**
 * The errors every layer shares. They live below the controller so that the providers (routers,
 * targets, metrics, notifiers) can raise them without depending on the scheduler that handles them.
 */

/** Base of every error Fledge raises on purpose; `cause` carries the underlying error. */
export class OperatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A spec problem the operator can't work around: reported once (reason on the Canary), retried with backoff. */
export class InvalidCanaryError extends OperatorError {
  readonly reason: string;
  constructor(message: string, reason = 'InvalidSpec', options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** A provider, target kind or feature that exists in the CRD but that Fledge does not implement. */
export class UnsupportedError extends InvalidCanaryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'Unsupported', options);
  }
}
