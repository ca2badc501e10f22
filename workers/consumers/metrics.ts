// A consumer's metrics (functions/_shared/metrics.ts): its hooks count handled, failed and dead-lettered
// messages; observedHandler wraps its handler to time it, count redeliveries and log the event with its
// correlation_id, the request id of the HTTP request that caused it.
import { eventTypes, isEventType, type EventType } from '../../functions/_shared/events/catalog.ts';
import type { Logger } from '../../functions/_shared/log.ts';
import { createConsumerMetrics, type ConsumerMetrics } from '../../functions/_shared/metrics.ts';
import type { ConsumerHooks, EventHandler } from './durable-consumer.ts';

const eventTypeLabel = (type: string) => (isEventType(type) ? type : 'unknown');

export function createDurableConsumerMetrics(consumer: string, handledTypes: readonly EventType[] = eventTypes): ConsumerMetrics {
  const metrics = createConsumerMetrics();
  metrics.unknownTypeDeferrals.inc({ consumer }, 0);
  metrics.waitingForDatabase.set({ consumer }, 0);
  // the types it handles start at 0, so a consumer that has seen nothing yet still has series
  for (const type of handledTypes) {
    const labels = { consumer, event_type: type };
    metrics.processed.inc(labels, 0);
    metrics.failures.inc(labels, 0);
    metrics.redeliveries.inc(labels, 0);
  }
  return metrics;
}

export function consumerMetricsHooks(metrics: ConsumerMetrics, consumer: string): ConsumerHooks {
  return {
    handled: ({ type }) => metrics.processed.inc({ consumer, event_type: eventTypeLabel(type) }),
    failed: ({ type }) => metrics.failures.inc({ consumer, event_type: eventTypeLabel(type) }),
    deadLettered: ({ type, reason }) => metrics.deadLettered.inc({ consumer, event_type: eventTypeLabel(type), reason }),
    // the type itself is in the log (once per type): as a label it would not be from the catalog's fixed set
    deferredUnknownType: () => metrics.unknownTypeDeferrals.inc({ consumer }),
    databaseAvailable: (available) => metrics.waitingForDatabase.set({ consumer }, available ? 0 : 1),
  };
}

export function observedHandler(
  handle: EventHandler,
  options: { metrics: ConsumerMetrics; consumer: string; logger: Logger },
): EventHandler {
  const { metrics, consumer, logger } = options;
  return async (event, tx) => {
    const labels = { consumer, event_type: event.type };
    if (event.deliveryCount > 1) metrics.redeliveries.inc(labels);
    logger.info('handling event', {
      event_id: event.id,
      event_type: event.type,
      correlation_id: event.correlationId,
      delivery: event.deliveryCount,
    });
    const started = performance.now();
    try {
      await handle(event, tx);
    } finally {
      metrics.processingDuration.observe({ consumer }, (performance.now() - started) / 1000);
    }
  };
}
