// The outbox relay against the real Postgres and the shared NATS server (fresh database, stream and subject
// prefix per test): what reaches the stream, in which order, and what happens to events that cannot.
import { describe, expect, it } from 'vitest';
import { streamDefinitions } from '../../functions/_shared/events/streams.ts';
import type { TestDatabase } from '../harness/database.ts';
import { testServices } from '../harness/services.ts';
import { channelArchived, messageCreated } from './support/events.ts';
import { useSharedNats } from './support/fixture.ts';
import { backlog, databaseSettings, enqueue, startRelay, waitFor, type InProcessRelay, type StreamSettings } from './support/relay-env.ts';
import { readStream } from './support/stream-reader.ts';

const fixture = useSharedNats();

async function relayFor(
  db: TestDatabase,
  streams: StreamSettings,
  overrides: Parameters<typeof startRelay>[3] = {},
): Promise<InProcessRelay> {
  const relay = await startRelay(databaseSettings(db.url), testServices.natsUrl, streams, overrides);
  fixture.afterTest(() => relay.stop());
  return relay;
}

describe('outbox relay', () => {
  it('publishes every event once, with its id, type, correlation id and payload, and marks it processed', async () => {
    const { db, streams } = await fixture.setUp('relay_basic');
    const payloads = Array.from({ length: 30 }, messageCreated);
    const ids: string[] = [];
    for (const [n, payload] of payloads.entries()) {
      ids.push(await enqueue(db.sql, { type: 'message.created', aggregateId: `m-${n % 5}`, payload, correlationId: `req-${n}` }));
    }
    await relayFor(db, streams);
    await waitFor('the outbox to drain', async () => (await backlog(db.sql)) === 0);

    const stored = await readStream(fixture.nc, streams.NATS_STREAM_EVENTS);
    expect(stored.map((e) => e.id)).toEqual(ids); // one producer, so commit order = insertion order
    expect(stored[7]).toMatchObject({
      subject: `${streams.NATS_SUBJECT_PREFIX}.message.created`,
      type: 'message.created',
      aggregate: 'message:m-2',
      correlationId: 'req-7',
      payload: payloads[7],
    });
    const rows = await db.sql`select processed, processed_at, attempts from public.outbox_events`;
    expect(rows.every((r) => r.processed && r.processed_at !== null && r.attempts === 0)).toBe(true);
  });

  it('wakes on NOTIFY instead of waiting for the next poll', async () => {
    const { db, streams } = await fixture.setUp('relay_notify');
    await relayFor(db, streams, { pollIntervalMs: 60_000 });
    const started = Date.now();
    await enqueue(db.sql, { type: 'message.created', aggregateId: 'm-1', payload: messageCreated() });
    await waitFor('the event to be published', async () => (await backlog(db.sql)) === 0, 5000, 10);
    // with a one-minute poll, only the notification can have woken it this fast
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await fixture.jsm.streams.info(streams.NATS_STREAM_EVENTS)).state.messages).toBe(1);
  });

  it('dead-letters poison events after their attempts while every other event flows, in order', async () => {
    const { db, streams } = await fixture.setUp('relay_poison');
    // a stream left behind by an older catalog: it no longer takes channel.archived
    const [eventStream] = streamDefinitions(streams);
    await fixture.jsm.streams.update(eventStream!.name, {
      subjects: eventStream!.subjects.filter((s) => !s.endsWith('.channel.archived')),
    });
    const good: string[] = [];
    const enqueueGood = async (aggregateId: string) =>
      good.push(await enqueue(db.sql, { type: 'message.created', aggregateId, payload: messageCreated() }));
    await enqueueGood('a');
    const tooLarge = await enqueue(db.sql, {
      type: 'message.created',
      aggregateId: 'big',
      payload: { ...messageCreated(), padding: 'x'.repeat(1_100_000) },
    });
    const offSchema = await enqueue(db.sql, { type: 'message.created', aggregateId: 'bad', payload: { message_id: 'not-a-uuid' } });
    // app.enqueue_event takes catalog types only: a row of a type the relay does not know (left by a type since
    // retired from the catalog) can only be written directly, as the table's owner
    const [ghost] = await db.sql<{ id: string }[]>`
      insert into public.outbox_events (event_type, aggregate_type, aggregate_id, payload)
      values ('ghost.appeared', 'ghost', 'g', '{}') returning id`;
    const unknownType = ghost!.id;
    const noStream = await enqueue(db.sql, { type: 'channel.archived', aggregateId: 'c', payload: channelArchived() });
    // an event behind the poison one in the same aggregate must wait for it, then follow
    const afterTooLarge = await enqueue(db.sql, { type: 'message.created', aggregateId: 'big', payload: messageCreated() });
    for (let n = 0; n < 20; n += 1) await enqueueGood(`m-${n}`);

    // two backoffs of 450-750 ms lie between a poison event's first and last attempt
    await relayFor(db, streams, { maxAttempts: 3, backoffBaseMs: 600, backoffMaxMs: 600 });
    await waitFor('the good events to be published', async () => {
      const [row] = await db.sql`select count(*)::int as n from public.outbox_events where processed`;
      return row!.n >= good.length;
    });
    const [poisonState] = await db.sql`select count(*)::int as dead from public.outbox_events where dead_lettered_at is not null`;
    expect(poisonState!.dead).toBe(0); // the others did not wait for the poison events' last attempts

    await waitFor('the poison events to be dead-lettered', async () => {
      const [row] = await db.sql`select count(*)::int as n from public.outbox_dead_letters`;
      return row!.n === 4;
    });
    await waitFor('the outbox to drain', async () => (await backlog(db.sql)) === 0);

    const deadLetters = await db.sql<{ id: string; attempts: number; last_error: string }[]>`
      select id, attempts, last_error from public.outbox_dead_letters`;
    const reasonOf = (id: string) => deadLetters.find((d) => d.id === id)?.last_error.split(':')[0];
    expect(reasonOf(tooLarge)).toBe('payload_too_large');
    expect(reasonOf(offSchema)).toBe('payload_schema');
    expect(reasonOf(unknownType)).toBe('unknown_event_type');
    expect(reasonOf(noStream)).toBe('no_stream');
    expect(deadLetters.every((d) => d.attempts === 3)).toBe(true);

    const stored = await readStream(fixture.nc, streams.NATS_STREAM_EVENTS);
    expect(stored.map((e) => e.id).sort()).toEqual([...good, afterTooLarge].sort());
    const [afterRow] = await db.sql<{ processed_at: Date; dead: Date }[]>`
      select (select processed_at from public.outbox_events where id = ${afterTooLarge}) as processed_at,
        (select dead_lettered_at from public.outbox_events where id = ${tooLarge}) as dead`;
    expect(new Date(afterRow!.processed_at).getTime()).toBeGreaterThanOrEqual(new Date(afterRow!.dead).getTime());
  });

  it('lets two relays share the lanes without publishing anything twice or reordering an aggregate', async () => {
    const { db, streams } = await fixture.setUp('relay_two');
    let duplicates = 0;
    const hooks = { eventPublished: (e: { duplicate: boolean }) => void (e.duplicate && (duplicates += 1)) };
    const first = await relayFor(db, streams, { hooks });
    const second = await relayFor(db, streams, { hooks });
    await waitFor('the lanes to be shared', () => first.relay.lanes.length === 8 && second.relay.lanes.length === 8, 10_000);
    expect([...first.relay.lanes, ...second.relay.lanes].sort((a, b) => a - b)).toEqual([...Array(16).keys()]);

    // four producers write interleaved events of 40 aggregates; each transaction holds its aggregate for a moment
    const committed = new Map<string, string[]>();
    const produce = async (producer: number) => {
      for (let n = 0; n < 50; n += 1) {
        const aggregateId = `agg-${(producer * 7 + n * 3) % 40}`;
        const id = await db.sql.begin(async (tx) => {
          const id = await enqueue(tx, { type: 'message.created', aggregateId, payload: messageCreated() });
          await tx`select pg_sleep(${Math.random() / 500})`;
          return id;
        });
        committed.set(aggregateId, [...(committed.get(aggregateId) ?? []), id as string]);
      }
    };
    await Promise.all([0, 1, 2, 3].map(produce));
    await waitFor('the outbox to drain', async () => (await backlog(db.sql)) === 0);

    const stored = await readStream(fixture.nc, streams.NATS_STREAM_EVENTS);
    expect(stored).toHaveLength(200);
    expect(new Set(stored.map((e) => e.id)).size).toBe(200);
    expect(duplicates).toBe(0);
    for (const [aggregateId, ids] of committed) {
      expect(stored.filter((e) => e.aggregate === `message:${aggregateId}`).map((e) => e.id)).toEqual(ids);
    }
  });

  it('takes over the lanes of a relay that stops', async () => {
    const { db, streams } = await fixture.setUp('relay_takeover');
    const first = await relayFor(db, streams);
    const second = await relayFor(db, streams);
    await waitFor('the lanes to be shared', () => first.relay.lanes.length === 8 && second.relay.lanes.length === 8, 10_000);
    await first.stop();
    await waitFor('the survivor to hold every lane', () => second.relay.lanes.length === 16, 10_000);
    for (let n = 0; n < 20; n += 1) await enqueue(db.sql, { type: 'message.created', aggregateId: `m-${n}`, payload: messageCreated() });
    await waitFor('the outbox to drain', async () => (await backlog(db.sql)) === 0);
    expect((await fixture.jsm.streams.info(streams.NATS_STREAM_EVENTS)).state.messages).toBe(20);
  });
});
