import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { startPrivateNats, type TestNats } from '../../tests/harness/nats.ts';
import { uniqueName } from '../../tests/harness/services.ts';
import { fetchText, sampleValue } from '../../tests/monitoring/stack.ts';
import type { MetricsServer } from '../lib/metrics-server.ts';
import { startNatsExporter } from './exporter.ts';

describe('NATS JetStream exporter', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let exporter: MetricsServer;
  const stream = uniqueName('EXPORTER').toUpperCase();
  const prefix = uniqueName('exp');

  beforeAll(async () => {
    nats = await startPrivateNats();
    nc = await connect({ servers: nats.url });
    exporter = await startNatsExporter({ monitoringUrl: nats.monitoringUrl, port: 0 });
  });
  afterAll(async () => {
    await exporter?.close();
    await nc?.close();
    await nats?.destroy();
  });

  it('exports pending, ack pending and redelivered messages per stream and consumer', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
    // one unacknowledged message at a time, back after 1s: the next delivery is a redelivery of the first
    await jsm.consumers.add(stream, {
      durable_name: 'wallet',
      ack_policy: AckPolicy.Explicit,
      ack_wait: 1_000_000_000,
      max_ack_pending: 1,
    });
    const js = jetstream(nc);
    for (let i = 0; i < 5; i += 1) await js.publish(`${prefix}.message.created`, JSON.stringify({ n: i }));

    const consumer = await js.consumers.get(stream, 'wallet');
    const first = await consumer.next({ expires: 5000 });
    expect(first?.info.deliveryCount).toBe(1);
    const again = await consumer.next({ expires: 5000 });
    expect(again?.seq).toBe(first?.seq);
    expect(again?.info.redelivered).toBe(true);

    const scrape = await fetchText(`${exporter.url}/metrics`);
    const labels = { account: '$G', stream, consumer: 'wallet' };
    expect(sampleValue(scrape, 'microdao_nats_monitoring_up')).toBe(1);
    expect(sampleValue(scrape, 'microdao_nats_stream_messages', { stream })).toBe(5);
    expect(sampleValue(scrape, 'microdao_nats_stream_last_sequence', { stream })).toBe(5);
    expect(sampleValue(scrape, 'microdao_nats_consumer_pending_messages', labels)).toBe(4);
    expect(sampleValue(scrape, 'microdao_nats_consumer_ack_pending_messages', labels)).toBe(1);
    expect(sampleValue(scrape, 'microdao_nats_consumer_redelivered_messages', labels)).toBe(1);
    expect(sampleValue(scrape, 'microdao_nats_consumer_ack_floor_stream_sequence', labels)).toBe(0);

    again?.ack();
    await nc.flush();
    const afterAck = await fetchText(`${exporter.url}/metrics`);
    expect(sampleValue(afterAck, 'microdao_nats_consumer_ack_pending_messages', labels)).toBe(0);
    expect(sampleValue(afterAck, 'microdao_nats_consumer_ack_floor_stream_sequence', labels)).toBe(1);
  });

  it('drops the series of a deleted stream instead of reporting its last values', async () => {
    const jsm = await jetstreamManager(nc);
    const doomed = `${stream}_DOOMED`;
    await jsm.streams.add({ name: doomed, subjects: [`${prefix}_doomed.>`] });
    expect(sampleValue(await fetchText(`${exporter.url}/metrics`), 'microdao_nats_stream_messages', { stream: doomed })).toBe(0);
    await jsm.streams.delete(doomed);
    expect(sampleValue(await fetchText(`${exporter.url}/metrics`), 'microdao_nats_stream_messages', { stream: doomed })).toBeUndefined();
  });

  it('still answers when the monitoring endpoint is down, with up 0 and no stale series', async () => {
    const nowhere = await startNatsExporter({ monitoringUrl: `http://127.0.0.1:${await ephemeralPort()}`, port: 0 });
    try {
      const scrape = await fetchText(`${nowhere.url}/metrics`);
      expect(sampleValue(scrape, 'microdao_nats_monitoring_up')).toBe(0);
      expect(scrape).not.toMatch(/^microdao_nats_stream_messages\{/m);
    } finally {
      await nowhere.close();
    }
  });

  it('answers 404 with a hint off /metrics', async () => {
    const response = await fetch(`${exporter.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('/metrics');
  });
});
