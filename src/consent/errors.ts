/** Base of the core's domain errors; `formatError` maps each to an `extensions.code` once. */
export class ConsentDomainError extends Error {
  override name = 'ConsentDomainError';
}

/** The caller's input breaks the contract; the message says how and quotes the bad value. */
export class InvalidInputError extends ConsentDomainError {
  override name = 'InvalidInputError';
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

/** An idempotency key was reused for a different change; the first change stands. */
export class IdempotencyConflictError extends ConsentDomainError {
  override name = 'IdempotencyConflictError';
}

/** An idempotency key reused for a different change inside a batch: `index` is the change's position in the caller's list. */
export class BatchIdempotencyConflictError extends IdempotencyConflictError {
  override name = 'BatchIdempotencyConflictError';
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}
