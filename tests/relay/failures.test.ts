// The relay when its surroundings fail: NATS going away (a private nats-server, never the shared one),
// its Postgres connections being cut, and SIGTERM in the middle of a drain.
import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorReporter, ErrorTags } from '../../functions/_shared/sentry.ts';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';
import { startPrivateNats } from '../harness/nats.ts';
import { testServices } from '../harness/services.ts';
import {
  backlog,
  connectJetStream,
  databaseSettings,
  deleteStreams,
  freshStreams,
  provision,
  relayStarted,
  spawnRelay,
  startRelay,
  waitFor,
} from './support/relay-env.ts';
import { readStream } from './support/stream-reader.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function database(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  cleanups.push(() => db.drop());
  return db;
}

async function enqueueMany(db: TestDatabase, count: number, aggregates = 10): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 500) {
    const chunk = Math.min(500, count - i);
    const rows = await db.sql<{ id: string }[]>`
      select app.enqueue_event('message.created', 'message', 'm-' || (g % ${aggregates}::int),
        jsonb_build_object('message_id', gen_random_uuid(), 'channel_id', gen_random_uuid(), 'team_id', gen_random_uuid(),
          'author_id', gen_random_uuid(), 'parent_id', null, 'created_at', now()), 'req-' || g) as id
      from generate_series(${i}::int, ${i + chunk - 1}::int) g`;
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

describe('outbox relay under failure', () => {
  it('keeps events unprocessed with attempts recorded while NATS is down, reports the outage once, and publishes them all once it is back', async () => {
    const nats = await startPrivateNats();
    cleanups.push(() => nats.destroy());
    const db = await database('relay_natsdown');
    const streams = freshStreams();
    const admin = await connectJetStream(nats.url);
    await provision(admin.jsm, streams);
    await admin.nc.close();
    const reported: ErrorTags[] = [];
    const reporter: ErrorReporter = { enabled: true, report: (_error, tags = {}) => void reported.push(tags), flush: async () => true };
    const relay = await startRelay(databaseSettings(db.url), nats.url, streams, { publishTimeoutMs: 300, backoffMaxMs: 400, reporter });
    cleanups.push(() => relay.stop());
    const before = await enqueueMany(db, 20);
    await waitFor('the first events to be published', async () => (await backlog(db.sql)) === 0);

    await nats.stop();
    const during = await enqueueMany(db, 50);
    await waitFor('failed attempts to be recorded', async () => {
      const [row] =
        await db.sql`select count(*)::int as n from public.outbox_events where attempts > 0 and last_error like 'nats_unavailable:%'`;
      return row!.n > 0;
    });
    const [stuck] = await db.sql`
      select count(*)::int as unprocessed, count(*) filter (where dead_lettered_at is not null)::int as dead
      from public.outbox_events where not processed`;
    expect(stuck).toEqual({ unprocessed: 50, dead: 0 });
    expect(relay.logs.some((l) => l.msg === 'events failed to publish')).toBe(true);
    await waitFor('several batches to fail', () => relay.logs.filter((l) => l.msg === 'events failed to publish').length >= 3);
    // one report for the outage, not one per failed batch or retry
    expect(reported.map((t) => t.incident)).toEqual(['publish:nats_unavailable']);
    expect(reported[0]).toMatchObject({ reason: 'nats_unavailable', event_type: 'message.created' });

    await nats.start();
    await waitFor('the outbox to drain after NATS is back', async () => (await backlog(db.sql)) === 0, 20_000);
    const check = await connectJetStream(nats.url);
    cleanups.push(() => check.nc.close());
    const stored = await readStream(check.nc, streams.NATS_STREAM_EVENTS);
    expect(stored.map((e) => e.id).sort()).toEqual([...before, ...during].sort());
    const [dead] = await db.sql`select count(*)::int as n from public.outbox_dead_letters`;
    expect(dead!.n).toBe(0);
  });

  it('reconnects by itself when its Postgres connections are cut', async () => {
    const db = await database('relay_pgcut');
    const streams = freshStreams();
    const admin = await connectJetStream(testServices.natsUrl);
    cleanups.push(
      () => admin.nc.close(),
      () => deleteStreams(admin.jsm, streams),
    );
    await provision(admin.jsm, streams);
    const relay = await startRelay(databaseSettings(db.url), testServices.natsUrl, streams);
    cleanups.push(() => relay.stop());
    await enqueueMany(db, 10);
    await waitFor('the first events to be published', async () => (await backlog(db.sql)) === 0);

    // what a Postgres restart looks like from the relay: every one of its sessions ends
    const cut = await db.sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and application_name like 'microdao-outbox-relay%'`;
    expect(cut.length).toBeGreaterThanOrEqual(2);
    await waitFor('the relay to hold its lanes again', async () => {
      const [row] =
        await db.sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = app.outbox_lane_lock_class()::oid
        and database = (select oid from pg_database where datname = current_database())`;
      return row!.n === 16;
    });
    await enqueueMany(db, 10);
    await waitFor('events written after the cut to be published', async () => (await backlog(db.sql)) === 0);
    expect((await admin.jsm.streams.info(streams.NATS_STREAM_EVENTS)).state.messages).toBe(20);
  });

  it('finishes the batches in flight on SIGTERM, exits 0, and leaves nothing published but unmarked', async () => {
    const db = await database('relay_sigterm');
    const streams = freshStreams();
    const admin = await connectJetStream(testServices.natsUrl);
    cleanups.push(
      () => admin.nc.close(),
      () => deleteStreams(admin.jsm, streams),
    );
    const ids = await enqueueMany(db, 3000, 1500);
    const relay = spawnRelay(databaseSettings(db.url), testServices.natsUrl, streams, { OUTBOX_RELAY_BATCH_SIZE: '20' });
    cleanups.push(async () => relay.child.kill('SIGKILL'));
    await waitFor('the relay to start', () => relayStarted(relay), 20_000);
    await waitFor('the drain to be under way', async () => {
      const [row] = await db.sql`select count(*)::int as n from public.outbox_events where processed`;
      return row!.n >= 200;
    });
    relay.child.kill('SIGTERM');
    expect(await relay.exited).toBe(0);
    expect(relay.lines.some((l) => l.includes('"relay stopped"'))).toBe(true);

    const [state] = await db.sql<{ processed: number }[]>`select count(*)::int as processed from public.outbox_events where processed`;
    const stored = await readStream(admin.nc, streams.NATS_STREAM_EVENTS);
    // everything the stream holds is marked, and nothing marked is missing from the stream
    expect(stored).toHaveLength(state!.processed);
    expect(state!.processed).toBeLessThan(ids.length);
    const [locks] =
      await db.sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = app.outbox_lane_lock_class()::oid
        and database = (select oid from pg_database where datname = current_database())`;
    expect(locks!.n).toBe(0);

    // a new relay picks up exactly where it stopped
    const next = spawnRelay(databaseSettings(db.url), testServices.natsUrl, streams);
    cleanups.push(async () => next.child.kill('SIGKILL'));
    await waitFor('the rest to be published', async () => (await backlog(db.sql)) === 0, 30_000);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
    expect((await admin.jsm.streams.info(streams.NATS_STREAM_EVENTS)).state.messages).toBe(ids.length);
  });
});
