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
