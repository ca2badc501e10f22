import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/_shared/log.ts';
import type { ConsumedEvent } from './durable-consumer.ts';
import { consumerMetricsHooks, createDurableConsumerMetrics, observedHandler } from './metrics.ts';

const event = (deliveryCount: number): ConsumedEvent => ({
  id: '6f1c8f3e-0d7a-4b8e-9a51-2f0d3c4b5a69',
  type: 'message.created',
  version: 1,
  correlationId: 'req-42',
  aggregateType: 'message',
  aggregateId: 'a1',
  occurredAt: new Date().toISOString(),
  payload: {} as ConsumedEvent['payload'],
  streamSequence: 7,
  deliveryCount,
});
const tx = {} as postgres.TransactionSql;
const sample = async (metrics: ReturnType<typeof createDurableConsumerMetrics>, name: string, labels: Record<string, string>) =>
  (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    ?.value;

describe('consumer metrics', () => {
  it('starts every handled type at 0, so the series exist before the first event', async () => {
    const metrics = createDurableConsumerMetrics('wallet', ['team.created']);
    expect(await sample(metrics, 'microdao_consumer_messages_processed_total', { consumer: 'wallet', event_type: 'team.created' })).toBe(0);
    expect(await sample(metrics, 'microdao_consumer_redeliveries_total', { consumer: 'wallet', event_type: 'team.created' })).toBe(0);
  });

  it('counts redeliveries, times the handler even when it fails, and logs the correlation id', async () => {
    const metrics = createDurableConsumerMetrics('wallet');
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    let calls = 0;
    const handle = observedHandler(
      async () => {
        calls += 1;
        if (calls === 2) throw new Error('ledger locked');
      },
      { metrics, consumer: 'wallet', logger },
    );
    await handle(event(1), tx);
    await expect(handle(event(2), tx)).rejects.toThrow('ledger locked');
    expect(await sample(metrics, 'microdao_consumer_redeliveries_total', { event_type: 'message.created' })).toBe(1);
    expect(await sample(metrics, 'microdao_consumer_processing_duration_seconds', { consumer: 'wallet', le: '+Inf' })).toBe(2);
    expect(lines.map((l) => [l.msg, l.correlation_id, l.delivery])).toEqual([
      ['handling event', 'req-42', 1],
      ['handling event', 'req-42', 2],
    ]);
  });

  it('counts handled, failed, dead-lettered and deferred messages and database waits from the consumer hooks, unknown types as "unknown"', async () => {
    const metrics = createDurableConsumerMetrics('wallet');
    const hooks = consumerMetricsHooks(metrics, 'wallet');
    hooks.handled?.({ type: 'team.created', duplicate: false });
    hooks.failed?.({ type: 'team.created', deliveryCount: 1, handlerFailures: 1, error: 'x' });
    hooks.deadLettered?.({ type: 'not.in.catalog', reason: 'missing_event_id' });
    hooks.deferredUnknownType?.({ type: 'wallet.minted' });
    hooks.databaseAvailable?.(false);
    expect(await sample(metrics, 'microdao_consumer_messages_processed_total', { event_type: 'team.created' })).toBe(1);
    expect(await sample(metrics, 'microdao_consumer_failures_total', { event_type: 'team.created' })).toBe(1);
    expect(await sample(metrics, 'microdao_consumer_dead_letters_total', { event_type: 'unknown', reason: 'missing_event_id' })).toBe(1);
    expect(await sample(metrics, 'microdao_consumer_unknown_event_type_deferrals_total', { consumer: 'wallet' })).toBe(1);
    expect(await sample(metrics, 'microdao_consumer_waiting_for_database', { consumer: 'wallet' })).toBe(1);
    hooks.databaseAvailable?.(true);
    expect(await sample(metrics, 'microdao_consumer_waiting_for_database', { consumer: 'wallet' })).toBe(0);
  });
});
