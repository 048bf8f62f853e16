import { OperatorError } from '../../core/errors.ts';

/** The query returned no data (no traffic, wrong labels): counts as a failed check. */
export class NoValuesFoundError extends OperatorError {}
/** The query returned several series where one value was expected. */
export class MultipleValuesError extends OperatorError {}
/** The backend could not be reached or answered with an error. */
export class ProviderError extends OperatorError {}
