// The platform's metric names, in one module for every runtime: prom-client runs on Node and on Deno
// (npm:prom-client), so the gateway, the outbox relay, the consumers and the NATS exporter all define their
// metrics here. Prometheus conventions: base units in the name (`_seconds`, `_events`), `_total` on
// counters only, and labels drawn from small fixed sets (route templates, event types, consumer names) —
// never a user, message or event id.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Registry };

/** Text exposition format served at /metrics. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Upper bounds of every latency histogram (the edge metrics receiver accepts pushed histograms with exactly these). */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500];

/** '2xx' for 204 and so on: responses are counted by class, which keeps the series few. */
export const statusClass = (status: number): string => `${Math.trunc(status / 100)}xx`;

/** The route label of a request no route matched: the raw path would let a scanner mint series. */
export const UNMATCHED_ROUTE = 'unmatched';

// --- Gateway --------------------------------------------------------------------------------------------

export function createGatewayMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  return {
    registry,
    requestDuration: new Histogram({
      name: 'microdao_http_request_duration_seconds',
      help: 'Time from receiving a request to sending its response, by route template and method.',
      labelNames: ['method', 'route'] as const,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    responses: new Counter({
      name: 'microdao_http_responses_total',
      help: 'Responses sent, by route template, method and status class (2xx, 4xx, 5xx).',
      labelNames: ['method', 'route', 'status_class'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: 'microdao_http_rate_limited_total',
      help: 'Requests refused with 429 by the rate limiter, by limit (global or per key).',
      labelNames: ['scope'] as const,
      registers,
    }),
    authFailures: new Counter({
      name: 'microdao_http_auth_failures_total',
      help: 'Requests refused with 401 or 403, by reason: the auth error code without auth_ (missing, expired, ...) or forbidden.',
      labelNames: ['reason'] as const,
      registers,
    }),
    // files (functions/api/storage): the upload funnel and what it adds to the bucket; reasons are the stable
    // error codes of the refusals (a handful), so the label stays small
    storageUploads: new Counter({
      name: 'microdao_storage_uploads_total',
      help: 'File uploads by step: requested (a presigned PUT handed out) or confirmed (verified and stored).',
      labelNames: ['step'] as const,
      registers,
    }),
    storageRejections: new Counter({
      name: 'microdao_storage_upload_rejections_total',
      help: 'File uploads refused, by step (request or confirm) and reason (type_not_allowed, file_too_large, storage_quota_exceeded, size_mismatch, checksum_mismatch, upload_expired).',
      labelNames: ['step', 'reason'] as const,
      registers,
    }),
    storageStoredBytes: new Counter({
      name: 'microdao_storage_stored_bytes_total',
      help: 'Bytes of files confirmed and stored (deletions not subtracted: the database holds the current usage).',
      registers,
    }),
    // Embassy (functions/api/embassy): partner is one of the four partners or `unknown`, outcome `accepted`,
    // `replayed` or the stable error code of the refusal (a fixed set)
    embassyWebhooks: new Counter({
      name: 'microdao_embassy_webhooks_total',
      help: 'Inbound partner webhooks by partner and outcome: accepted, replayed, or the error code they were refused or stored with (webhook_signature_mismatch, webhook_type_unknown, ...).',
      labelNames: ['partner', 'outcome'] as const,
      registers,
    }),
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/** Records one finished request. `route` is the matched template (`/api/channels/:id`), never the raw path. */
export function observeHttpRequest(
  metrics: GatewayMetrics,
  request: { method: string; route: string | undefined; status: number; durationSeconds: number },
): void {
  const route = request.route ?? UNMATCHED_ROUTE;
  metrics.requestDuration.observe({ method: request.method, route }, request.durationSeconds);
  metrics.responses.inc({ method: request.method, route, status_class: statusClass(request.status) });
}

// --- Outbox relay ---------------------------------------------------------------------------------------

/** The outbox as the database sees it, read at scrape time so the gauges are true even after a restart. */
export interface OutboxState {
  backlogEvents: number;
  oldestUnprocessedAgeSeconds: number;
  deadLetterEvents: number;
}

export function createRelayMetrics(readOutboxState: () => Promise<OutboxState>, registry: Registry = new Registry()) {
  const registers = [registry];
  // One query serves the three gauges and the failure count: prom-client calls every collect() of a scrape
  // before awaiting any, so they share the promise started by the first.
  let reading: Promise<OutboxState | undefined> | undefined;
  const stateReadFailures = new Counter({
    name: 'microdao_outbox_state_read_failures_total',
    help: 'Scrapes at which the outbox gauges could not be read from the database (they keep their last values).',
    registers,
    async collect() {
      await readOnce();
    },
  });
  const readOnce = () =>
    (reading ??= readOutboxState()
      .catch((): undefined => {
        stateReadFailures.inc();
      })
      .finally(() => (reading = undefined)));
  const outboxGauge = (name: string, help: string, pick: (state: OutboxState) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const state = await readOnce();
        if (state) this.set(pick(state));
      },
    });
  const backlog = outboxGauge(
    'microdao_outbox_backlog_events',
    'Outbox events not yet published (dead letters excluded).',
    (s) => s.backlogEvents,
  );
  const oldestAge = outboxGauge(
    'microdao_outbox_oldest_unprocessed_age_seconds',
    'Age of the oldest outbox event not yet published; 0 when the outbox is drained.',
    (s) => s.oldestUnprocessedAgeSeconds,
  );
  const deadLetterBacklog = outboxGauge(
    'microdao_outbox_dead_letter_events',
    'Outbox events the relay gave up on (dead-lettered) that still wait for an operator.',
    (s) => s.deadLetterEvents,
  );
  return {
    registry,
    published: new Counter({
      name: 'microdao_outbox_events_published_total',
      help: 'Outbox events published to JetStream and acknowledged by the stream, by event type.',
      labelNames: ['event_type'] as const,
      registers,
    }),
    publishFailures: new Counter({
      name: 'microdao_outbox_publish_failures_total',
      help: 'Publish attempts that failed, by event type and reason (nats_unavailable, no_stream, payload_schema, ...); retried, then dead-lettered if the event itself is at fault.',
      labelNames: ['event_type', 'reason'] as const,
      registers,
    }),
    batchSize: new Histogram({
      name: 'microdao_outbox_batch_size_events',
      help: 'Events claimed per relay batch.',
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    }),
    publishDuration: new Histogram({
      name: 'microdao_outbox_publish_duration_seconds',
      help: 'Time to publish one event to JetStream, until the stream acknowledged it.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    backlog,
    oldestAge,
    deadLetterBacklog,
    stateReadFailures,
  };
}
export type RelayMetrics = ReturnType<typeof createRelayMetrics>;

// --- Event consumers ------------------------------------------------------------------------------------

export function createConsumerMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  return {
    registry,
    processed: new Counter({
      name: 'microdao_consumer_messages_processed_total',
      help: 'Messages a consumer handled and acknowledged, by consumer and event type.',
      labelNames: ['consumer', 'event_type'] as const,
      registers,
    }),
    failures: new Counter({
      name: 'microdao_consumer_failures_total',
      help: 'Messages a consumer failed to handle (negatively acknowledged or terminated), by consumer and event type.',
      labelNames: ['consumer', 'event_type'] as const,
      registers,
    }),
    redeliveries: new Counter({
      name: 'microdao_consumer_redeliveries_total',
      help: 'Messages a consumer received again after an earlier delivery was not acknowledged.',
      labelNames: ['consumer', 'event_type'] as const,
      registers,
    }),
    deadLettered: new Counter({
      name: 'microdao_consumer_dead_letters_total',
      help: 'Messages a consumer gave up on and published to its dead-letter subject, by reason.',
      labelNames: ['consumer', 'event_type', 'reason'] as const,
      registers,
    }),
    unknownTypeDeferrals: new Counter({
      name: 'microdao_consumer_unknown_event_type_deferrals_total',
      help: 'Messages of an event type this consumer version does not know, left for a newer version (nakked with a long delay, never dead-lettered).',
      labelNames: ['consumer'] as const,
      registers,
    }),
    waitingForDatabase: new Gauge({
      name: 'microdao_consumer_waiting_for_database',
      help: 'Whether a consumer holds its messages because its database does not answer (1) or not (0).',
      labelNames: ['consumer'] as const,
      registers,
    }),
    processingDuration: new Histogram({
      name: 'microdao_consumer_processing_duration_seconds',
      help: "Time a consumer's handler took for one event (inside its transaction).",
      labelNames: ['consumer'] as const,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
  };
}
export type ConsumerMetrics = ReturnType<typeof createConsumerMetrics>;

// --- NATS JetStream (workers/nats-exporter, from the server's /jsz monitoring endpoint) -------------------

export function createNatsExporterMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  // account: one server may hold several NATS accounts, each with its own stream names
  const streamLabels = ['account', 'stream'] as const;
  const consumerLabels = ['account', 'stream', 'consumer'] as const;
  return {
    registry,
    up: new Gauge({
      name: 'microdao_nats_monitoring_up',
      help: "1 if the NATS server's /jsz monitoring endpoint answered at the last scrape, else 0.",
      registers,
    }),
    streamMessages: new Gauge({
      name: 'microdao_nats_stream_messages',
      help: 'Messages stored in a stream.',
      labelNames: streamLabels,
      registers,
    }),
    streamBytes: new Gauge({ name: 'microdao_nats_stream_bytes', help: 'Bytes stored in a stream.', labelNames: streamLabels, registers }),
    streamLastSequence: new Gauge({
      name: 'microdao_nats_stream_last_sequence',
      help: 'Sequence number of the last message stored in a stream.',
      labelNames: streamLabels,
      registers,
    }),
    consumerPending: new Gauge({
      name: 'microdao_nats_consumer_pending_messages',
      help: 'Messages in the stream a consumer has not been delivered yet.',
      labelNames: consumerLabels,
      registers,
    }),
    consumerAckPending: new Gauge({
      name: 'microdao_nats_consumer_ack_pending_messages',
      help: 'Messages delivered to a consumer and not yet acknowledged.',
      labelNames: consumerLabels,
      registers,
    }),
    consumerRedelivered: new Gauge({
      name: 'microdao_nats_consumer_redelivered_messages',
      help: 'Messages delivered more than once to a consumer and not yet acknowledged.',
      labelNames: consumerLabels,
      registers,
    }),
    consumerWaiting: new Gauge({
      name: 'microdao_nats_consumer_waiting_pulls',
      help: 'Pull requests waiting on a consumer (0 with messages pending means nobody is pulling).',
      labelNames: consumerLabels,
      registers,
    }),
    consumerAckFloor: new Gauge({
      name: 'microdao_nats_consumer_ack_floor_stream_sequence',
      help: 'Stream sequence up to which a consumer has acknowledged every message.',
      labelNames: consumerLabels,
      registers,
    }),
  };
}
export type NatsExporterMetrics = ReturnType<typeof createNatsExporterMetrics>;

/** The governance scheduler's metrics (workers/governance-scheduler): steps by the state reached, ticks by
    outcome, tick duration. Every instance reports its own; sum over instances for the team-wide figures. */
export function createGovernanceSchedulerMetrics(registry: Registry = new Registry()) {
  return {
    registry,
    steps: new Counter({
      name: 'microdao_governance_scheduler_steps_total',
      help: 'Proposals moved one step by this instance, by the state they reached',
      labelNames: ['to_state'] as const,
      registers: [registry],
    }),
    ticks: new Counter({
      name: 'microdao_governance_scheduler_ticks_total',
      help: 'Scheduler ticks by outcome (ok, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    tickSeconds: new Histogram({
      name: 'microdao_governance_scheduler_tick_seconds',
      help: 'Duration of one scheduler tick (one transaction)',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    }),
  };
}

export type GovernanceSchedulerMetrics = ReturnType<typeof createGovernanceSchedulerMetrics>;

/** The Embassy consumer's own metrics (workers/consumers/embassy): partner events applied to the RWA
    inventory by result, and outbound webhooks by outcome. Labels: the four partners, fixed result sets. */
export function createEmbassyMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  return {
    registry,
    rwaApplied: new Counter({
      name: 'microdao_embassy_rwa_events_total',
      help: 'Accepted partner events the consumer processed, by partner and result (applied, team_not_linked, insufficient_quantity, no_effect).',
      labelNames: ['partner', 'result'] as const,
      registers,
    }),
    outboundAttempts: new Counter({
      name: 'microdao_embassy_outbound_attempts_total',
      help: 'Outbound webhook attempts by partner and outcome: delivered (2xx), retried (failed, another attempt scheduled), dead_lettered (failed, no attempt left).',
      labelNames: ['partner', 'outcome'] as const,
      registers,
    }),
    outboundDuration: new Histogram({
      name: 'microdao_embassy_outbound_attempt_duration_seconds',
      help: "Time one outbound webhook POST took, until the partner's answer or the timeout.",
      labelNames: ['partner'] as const,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    outboundDead: new Gauge({
      name: 'microdao_embassy_outbound_dead_deliveries',
      help: 'Outbound deliveries in the dead-letter state now (read from the database at each scrape), waiting for a manual redeliver.',
      registers,
    }),
  };
}
export type EmbassyMetrics = ReturnType<typeof createEmbassyMetrics>;

/** The Gift Fabric consumer's own series, beside its durable-consumer series on the same registry. */
export function createGiftFabricMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  const metrics = {
    registry,
    gifts: new Counter({
      name: 'microdao_gift_fabric_gifts_total',
      help: 'gift.sent events the consumer applied, by outcome: delivered (credits moved), refused (nothing moved), duplicate (applied before).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    deliveryLag: new Histogram({
      name: 'microdao_gift_fabric_delivery_lag_seconds',
      help: 'Time from a gift being sent (its row committed) to the consumer applying it.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
  };
  // every outcome has a series from the start, so a dashboard shows 0 rather than no data
  for (const outcome of ['delivered', 'refused', 'duplicate']) metrics.gifts.inc({ outcome }, 0);
  return metrics;
}
export type GiftFabricMetrics = ReturnType<typeof createGiftFabricMetrics>;
