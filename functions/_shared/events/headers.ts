// Names of the NATS headers every event message carries. The body is the payload alone (JSON); the
// envelope travels in headers, so consumers can route and deduplicate without parsing the body.
export const EVENT_HEADERS = {
  /** The outbox event id. JetStream deduplicates on it within the stream's duplicate window. */
  id: 'Nats-Msg-Id',
  type: 'Microdao-Event-Type',
  version: 'Microdao-Event-Version',
  /** The request id of the request that caused the event. */
  correlationId: 'Microdao-Correlation-Id',
  aggregateType: 'Microdao-Aggregate-Type',
  aggregateId: 'Microdao-Aggregate-Id',
  /** When the event was written to the outbox (ISO 8601). */
  occurredAt: 'Microdao-Occurred-At',
} as const;

/** Extra headers of a consumer's dead letter: why, and where the original came from. */
export const DEAD_LETTER_HEADERS = {
  consumer: 'Microdao-Dead-Letter-Consumer',
  reason: 'Microdao-Dead-Letter-Reason',
  deliveries: 'Microdao-Dead-Letter-Deliveries',
  originalSubject: 'Microdao-Original-Subject',
  originalSequence: 'Microdao-Original-Stream-Sequence',
} as const;

/** Headers of a dead letter put back into the events stream for one consumer (npm run consumer:requeue-dlq).
    Its Nats-Msg-Id must differ from the event id, or the stream would drop it as a duplicate within its
    window, so the event id travels in its own header; other consumers skip the message. */
export const REQUEUE_HEADERS = {
  eventId: 'Microdao-Event-Id',
  consumer: 'Microdao-Requeued-For',
} as const;
