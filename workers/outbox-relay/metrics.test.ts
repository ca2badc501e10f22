import { describe, expect, it } from 'vitest';
import { createRelayMetrics } from '../../functions/_shared/metrics.ts';
import { relayMetricsHooks } from './metrics.ts';

const state = { backlogEvents: 3, oldestUnprocessedAgeSeconds: 12.5, deadLetterEvents: 1, waitingForRetryEvents: 0, processedEvents: 9 };

describe('relay metrics', () => {
  it('reads the outbox gauges once per scrape and counts failed reads instead of failing the scrape', async () => {
    let reads = 0;
    let fail = false;
    const metrics = createRelayMetrics(async () => {
      reads += 1;
      if (fail) throw new Error('database away');
      return state;
    });
    const first = await metrics.registry.metrics();
    expect(reads).toBe(1);
    expect(first).toMatch(/^microdao_outbox_backlog_events 3$/m);
    expect(first).toMatch(/^microdao_outbox_oldest_unprocessed_age_seconds 12.5$/m);
    expect(first).toMatch(/^microdao_outbox_dead_letter_events 1$/m);
    fail = true;
    const second = await metrics.registry.metrics();
    expect(reads).toBe(2);
    expect(second).toMatch(/^microdao_outbox_state_read_failures_total 1$/m);
  });

  it('counts publishes, failures by reason and batch sizes from the relay hooks', async () => {
    const metrics = createRelayMetrics(async () => state);
    const hooks = relayMetricsHooks(metrics);
    hooks.batchClaimed?.(4);
    hooks.eventPublished?.({ id: 'e1', eventType: 'team.created', publishSeconds: 0.002, duplicate: false });
    hooks.publishFailed?.({ id: 'e2', eventType: 'no.such.type', reason: 'unknown_event_type', poison: true });
    const text = await metrics.registry.metrics();
    expect(text).toContain('microdao_outbox_events_published_total{event_type="team.created"} 1');
    expect(text).toContain('microdao_outbox_publish_failures_total{event_type="unknown",reason="unknown_event_type"} 1');
    expect(text).toContain('microdao_outbox_batch_size_events_sum 4');
    expect(text).toContain('microdao_outbox_publish_duration_seconds_count 1');
  });
});
