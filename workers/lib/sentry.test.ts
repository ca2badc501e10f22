// Sentry in the workers, end to end: the relay and the telemetry consumer run as the processes they are in
// production (main.ts, configured by env) with SENTRY_DSN pointing at a local stand-in for sentry.io, and a
// real failure — an event the relay dead-letters, a consumer handler that throws — has to arrive there
// with the tags that say where it broke, and without the payload.
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectFor } from '../../functions/_shared/events/catalog.ts';
import { EVENT_HEADERS } from '../../functions/_shared/events/headers.ts';
import { loadConfig } from '../../functions/_shared/config.ts';
import type { ErrorReporter, ErrorTags } from '../../functions/_shared/sentry.ts';
import { testServices } from '../../tests/harness/services.ts';
import { startSentryEndpoint, type SentryEndpoint } from '../../tests/monitoring/sentry-endpoint.ts';
import { messageCreated } from '../../tests/relay/support/events.ts';
import { useSharedNats } from '../../tests/relay/support/fixture.ts';
import { databaseSettings, enqueue, spawnRelay, spawnWorker, waitFor } from '../../tests/relay/support/relay-env.ts';
import { createWorkerErrorReporter, IncidentReporter } from './sentry.ts';

const fixture = useSharedNats();
let endpoint: SentryEndpoint;
beforeAll(async () => {
  endpoint = await startSentryEndpoint();
});
afterAll(async () => {
  await endpoint?.close();
});

const eventsWith = (incident: string) => endpoint.events().filter((e) => (e.tags as Record<string, string>).incident === incident);
const exceptionOf = (event: Record<string, unknown>) => (event.exception as { values: { type: string; value: string }[] }).values[0]!;

describe('Sentry in the workers', () => {
  it('is off without SENTRY_DSN', async () => {
    const off = await createWorkerErrorReporter(loadConfig({ APP_ENV: 'test' }), 'consumer-telemetry');
    expect(off.enabled).toBe(false);
  });

  it('reports a recurring failure once per incident and again once it recovered or the interval passed', () => {
    const reports: ErrorTags[] = [];
    const reporter: ErrorReporter = { enabled: true, report: (_error, tags = {}) => void reports.push(tags), flush: async () => true };
    let now = 0;
    const incidents = new IncidentReporter(reporter, { intervalMs: 1000, now: () => now });
    for (let retry = 0; retry < 5; retry += 1) incidents.report('claim', new Error('connection refused'), { stage: 'claim' });
    now = 999;
    incidents.report('claim', new Error('connection refused'));
    incidents.report('publish:nats_unavailable', new Error('timeout'));
    now = 1000;
    incidents.report('claim', new Error('connection refused'));
    expect(incidents.recovered('claim')).toBe(true);
    expect(incidents.recovered('claim')).toBe(false);
    incidents.report('claim', new Error('connection refused'));
    expect(reports.map((t) => t.incident)).toEqual(['claim', 'publish:nats_unavailable', 'claim', 'claim']);
    expect(reports[0]).toEqual({ incident: 'claim', stage: 'claim' });
  });

  it('the relay process reports an event it dead-letters, with its type, id and correlation id, without its payload', async () => {
    const { db, streams } = await fixture.setUp('sentry_relay');
    const marker = `broken-${randomUUID()}`;
    const correlationId = `req-${randomUUID()}`;
    const id = await enqueue(db.sql, { type: 'message.created', aggregateId: 'm-1', payload: { message_id: marker }, correlationId });
    const relay = spawnRelay(databaseSettings(db.url), testServices.natsUrl, streams, {
      SENTRY_DSN: endpoint.dsn,
      OUTBOX_RELAY_MAX_ATTEMPTS: '2',
    });
    fixture.afterTest(async () => relay.child.kill('SIGKILL'));
    await waitFor('the dead letter to reach Sentry', () => eventsWith('dead_letter:payload_schema:message.created').length > 0, 20_000);

    const [event] = eventsWith('dead_letter:payload_schema:message.created');
    expect(event!.environment).toBe('test');
    expect(event!.tags).toMatchObject({
      service: 'outbox-relay',
      event_type: 'message.created',
      event_id: id,
      correlation_id: correlationId,
      reason: 'payload_schema',
      attempts: '2',
    });
    expect(exceptionOf(event!)).toMatchObject({
      type: 'OutboxRelayFailure',
      value: 'an outbox event was dead-lettered after 2 attempts: payload_schema',
    });
    // the relay's own log says which field is wrong; Sentry gets neither the payload nor that detail
    expect(relay.lines.some((line) => line.includes('message_id'))).toBe(true);
    const sent = endpoint.envelopes.map((e) => e.raw).join('\n');
    expect(sent).not.toContain(marker);
    relay.child.kill('SIGTERM');
    expect(await relay.exited).toBe(0);
  });

  it('the telemetry consumer process reports a failing handler and the dead letter it ends in, without the payload', async () => {
    const { db, streams } = await fixture.setUp('sentry_consumer');
    // the handler's table is gone (a migration rolled back too far): every attempt fails
    await db.sql`drop table public.telemetry_event_counts`;
    const payload = messageCreated();
    const eventId = randomUUID();
    const correlationId = `req-${randomUUID()}`;
    const h = natsHeaders();
    h.set(EVENT_HEADERS.id, eventId);
    h.set(EVENT_HEADERS.type, 'message.created');
    h.set(EVENT_HEADERS.correlationId, correlationId);
    h.set(EVENT_HEADERS.aggregateType, 'message');
    h.set(EVENT_HEADERS.aggregateId, 'm-1');
    await jetstream(fixture.nc).publish(subjectFor(streams.NATS_SUBJECT_PREFIX, 'message.created'), JSON.stringify(payload), {
      headers: h,
    });

    const consumer = spawnWorker('workers/consumers/telemetry/main.ts', databaseSettings(db.url), testServices.natsUrl, streams, {
      NATS_CONSUMER_TELEMETRY: 'telemetry-sentry',
      CONSUMER_MAX_DELIVER: '2',
      SENTRY_DSN: endpoint.dsn,
    });
    fixture.afterTest(async () => consumer.child.kill('SIGKILL'));
    const deadLetter = 'dead_letter:handler_failed:message.created';
    await waitFor('the dead letter to reach Sentry', () => eventsWith(deadLetter).length > 0, 20_000);

    const where = { service: 'consumer-telemetry', consumer: 'telemetry-sentry', event_type: 'message.created', event_id: eventId };
    // the handler's own error, reported on its first failure (not on each of them)
    const failures = eventsWith('handler_failed:message.created');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.tags).toMatchObject({ ...where, correlation_id: correlationId, handler_failures: '1' });
    expect(exceptionOf(failures[0]!).value).toContain('relation "public.telemetry_event_counts" does not exist');
    const [dead] = eventsWith(deadLetter);
    expect(dead!.tags).toMatchObject({ ...where, correlation_id: correlationId, reason: 'handler_failed', delivery: '2' });
    expect(exceptionOf(dead!)).toMatchObject({
      type: 'ConsumerFailure',
      value: 'telemetry-sentry dead-lettered a message.created message: handler_failed',
    });
    const sent = endpoint.envelopes.map((e) => e.raw).join('\n');
    for (const value of [payload.message_id, payload.channel_id, payload.team_id, payload.author_id]) expect(sent).not.toContain(value);
  });
});
