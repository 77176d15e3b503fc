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

/**
 * A record over its topic's size limit (max.message.bytes): refused before anything is sent, as
 * no retry can make it fit. A consumer whose output is too large dead-letters its input with this
 * code; an HTTP API answers 413.
 */
export class RecordTooLargeException extends PoisonRecordException {
  constructor(
    readonly topic: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      'OUTPUT_TOO_LARGE',
      `a ${topic} record of about ${bytes} bytes cannot fit the topic's limit of ${limit} bytes (max.message.bytes)`,
    );
    this.name = 'RecordTooLargeException';
  }
}

/** The producer holds as much unsent data as it may: the caller should slow down and retry. */
export class ProducerBusyException extends RetryableException {
  constructor(readonly queuedBytes: number) {
    super(`the Kafka producer already holds ${queuedBytes} bytes waiting to be sent`);
    this.name = 'ProducerBusyException';
  }
}
