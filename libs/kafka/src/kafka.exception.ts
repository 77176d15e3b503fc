/** A value does not match its topic's schema; it is never sent or handed to a handler. */
export class SchemaViolationException extends Error {
  readonly code = 'SCHEMA_VIOLATION';
  constructor(
    readonly topic: string,
    readonly issues: string[],
  ) {
    super(`${topic}: ${issues.join('; ')}`);
    this.name = 'SchemaViolationException';
  }
}

/**
 * A handler failure that will pass (a database or broker outage): the batch is retried with
 * backoff, never dead-lettered.
 */
export class RetryableException extends Error {
  readonly code = 'RETRYABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableException';
  }
}

/** A record the handler can never process: it goes to the dead-letter topic with this code. */
export class PoisonRecordException extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PoisonRecordException';
  }
}
