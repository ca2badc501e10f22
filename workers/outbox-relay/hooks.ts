// Points where the relay reports what it does, for metrics (prom-client counters in
// functions/_shared/metrics.ts) or tests. Every hook is optional and must not throw.
export type FailureReason =
  'unknown_event_type' | 'payload_schema' | 'payload_too_large' | 'no_stream' | 'nats_unavailable' | 'stream_error';

export interface RelayHooks {
  /** A batch was claimed from the outbox. */
  batchClaimed?(size: number): void;
  /** The stream acknowledged an event (duplicate: it already held that event id). */
  eventPublished?(event: { id: string; eventType: string; publishSeconds: number; duplicate: boolean }): void;
  /** An attempt failed; poison events are retried with backoff, then dead-lettered. */
  publishFailed?(event: { id: string; eventType: string; reason: FailureReason; poison: boolean }): void;
  /** Published events were marked processed in the outbox. */
  eventsMarkedProcessed?(count: number): void;
  /** The lanes this relay publishes changed. */
  lanesChanged?(lanes: number[]): void;
}
