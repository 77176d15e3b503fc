/** Record header names used on every topic. */
export const HEADERS = {
  contentType: 'content-type',
  eventType: 'event-type',
  traceparent: 'traceparent',
  correlationId: 'x-correlation-id',
} as const;
