// The relay's metrics (functions/_shared/metrics.ts) fed from its hooks, and the outbox gauges read from
// the database at each scrape. main.ts serves them on METRICS_HOST:METRICS_PORT.
import { eventTypes, isEventType } from '../../functions/_shared/events/catalog.ts';
import { createRelayMetrics, type RelayMetrics } from '../../functions/_shared/metrics.ts';
import { readOutboxState } from '../../functions/_shared/outbox-status.ts';
import type { Sql } from '../lib/postgres.ts';
import type { RelayHooks } from './hooks.ts';

// an event type outside the catalog must not mint a new series
const eventTypeLabel = (type: string) => (isEventType(type) ? type : 'unknown');

export function createOutboxRelayMetrics(sql: Sql): RelayMetrics {
  const metrics = createRelayMetrics(() => readOutboxState(sql));
  // every known type starts at 0, so rate() and absence-free alerts work before the first event of a type
  for (const type of eventTypes) metrics.published.inc({ event_type: type }, 0);
  return metrics;
}

export function relayMetricsHooks(metrics: RelayMetrics): RelayHooks {
  return {
    batchClaimed: (size) => metrics.batchSize.observe(size),
    eventPublished: ({ eventType, publishSeconds }) => {
      metrics.published.inc({ event_type: eventTypeLabel(eventType) });
      metrics.publishDuration.observe(publishSeconds);
    },
    publishFailed: ({ eventType, reason }) => metrics.publishFailures.inc({ event_type: eventTypeLabel(eventType), reason }),
  };
}
