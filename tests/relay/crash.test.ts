// Crash test: producers write events concurrently while relays are SIGKILLed at random moments and
// restarted, and NATS (a private server) is restarted once. Afterwards every event is in the stream exactly
// once and each aggregate's events are there in the order their transactions committed.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';
import { startPrivateNats, type TestNats } from '../harness/nats.ts';
import { messageCreated } from './support/events.ts';
import {
  backlog,
  connectJetStream,
  databaseSettings,
  enqueue,
  freshStreams,
  provision,
  spawnRelay,
  waitFor,
  type RelayProcess,
} from './support/relay-env.ts';
import { readStream } from './support/stream-reader.ts';

const EVENTS = 1500;
const PRODUCERS = 4;
const AGGREGATES = 24;
const PRODUCE_FOR_MS = 7000;

let db: TestDatabase;
let nats: TestNats;

beforeAll(async () => {
  db = await createTestDatabase('relay_crash');
  nats = await startPrivateNats();
  // an independent witness of commit order: a per-aggregate counter bumped after the events are enqueued,
  // whose row lock makes a later transaction of the aggregate wait for the earlier one's commit
  await db.sql`create table crash_commit_order (aggregate_id text primary key, commits int not null default 0)`;
});
afterAll(async () => {
  await nats?.destroy();
  await db?.drop();
});

describe('outbox relay crash test', () => {
  it(
    'delivers every event exactly once and in commit order per aggregate through SIGKILLs and a NATS restart',
    { timeout: 60_000 },
    async () => {
      const streams = freshStreams();
      const admin = await connectJetStream(nats.url);
      await provision(admin.jsm, streams);
      await admin.nc.close();
      const settings = databaseSettings(db.url);
      const relays: (RelayProcess | undefined)[] = [undefined, undefined];
      const launch = (slot: number) => (relays[slot] = spawnRelay(settings, nats.url, streams));
      launch(0);
      launch(1);

      // producers: transactions of 1-3 events for one aggregate, holding it a moment before committing
      const producerSql = postgres(db.url, { max: PRODUCERS, prepare: false, onnotice: () => {} });
      const commitOrder = new Map<string, { id: string; commit: number; position: number }>();
      let produced = 0;
      const started = Date.now();
      const produce = async () => {
        while (produced < EVENTS) {
          const count = Math.min(EVENTS - produced, 1 + Math.floor(Math.random() * 3));
          produced += count;
          const aggregateId = `agg-${Math.floor(Math.random() * AGGREGATES)}`;
          const { ids, commit } = await producerSql.begin(async (tx) => {
            const ids: string[] = [];
            for (let i = 0; i < count; i += 1)
              ids.push(await enqueue(tx, { type: 'message.created', aggregateId, payload: messageCreated() }));
            await tx`select pg_sleep(${Math.random() * 0.003})`;
            const [row] = await tx<{ commits: number }[]>`
            insert into crash_commit_order (aggregate_id, commits) values (${aggregateId}, 1)
            on conflict (aggregate_id) do update set commits = crash_commit_order.commits + 1
            returning commits`;
            return { ids, commit: row!.commits };
          });
          ids.forEach((id, position) => commitOrder.set(id, { id, commit, position }));
          // spread the events over the chaos period
          const due = (produced / EVENTS) * PRODUCE_FOR_MS - (Date.now() - started);
          if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
        }
      };

      // chaos: SIGKILL a random relay every 0.3-1.2 s and start it again; restart NATS once halfway
      let chaos = true;
      let kills = 0;
      let natsRestarted = false;
      const unleash = async () => {
        while (chaos) {
          await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 900));
          if (!chaos) break;
          const slot = Math.floor(Math.random() * relays.length);
          relays[slot]?.child.kill('SIGKILL');
          kills += 1;
          launch(slot);
          if (!natsRestarted && Date.now() - started > PRODUCE_FOR_MS / 2) {
            natsRestarted = true;
            await nats.stop();
            await new Promise((resolve) => setTimeout(resolve, 500));
            await nats.start();
          }
        }
      };

      const chaosDone = unleash();
      await Promise.all(Array.from({ length: PRODUCERS }, produce));
      chaos = false;
      await chaosDone;
      await producerSql.end();
      expect(kills).toBeGreaterThanOrEqual(4);
      expect(natsRestarted).toBe(true);

      try {
        await waitFor('the outbox to drain', async () => (await backlog(db.sql)) === 0, 30_000, 100);
      } finally {
        for (const relay of relays) relay?.child.kill('SIGKILL');
      }

      const check = await connectJetStream(nats.url);
      const info = await check.jsm.streams.info(streams.NATS_STREAM_EVENTS);
      const stored = await readStream(check.nc, streams.NATS_STREAM_EVENTS);
      await check.nc.close();

      expect(commitOrder.size).toBe(EVENTS);
      expect(info.state.messages).toBe(EVENTS);
      expect(new Set(stored.map((e) => e.id)).size).toBe(EVENTS);
      expect(stored.every((e) => commitOrder.has(e.id))).toBe(true);
      const [dead] = await db.sql`select count(*)::int as n from public.outbox_dead_letters`;
      expect(dead!.n).toBe(0);

      const outOfOrder: string[] = [];
      const lastSeen = new Map<string, { commit: number; position: number }>();
      for (const event of stored) {
        const order = commitOrder.get(event.id)!;
        const previous = lastSeen.get(event.aggregate);
        if (previous && (order.commit < previous.commit || (order.commit === previous.commit && order.position < previous.position))) {
          outOfOrder.push(`${event.aggregate}: commit ${order.commit}.${order.position} after ${previous.commit}.${previous.position}`);
        }
        lastSeen.set(event.aggregate, order);
      }
      expect(outOfOrder).toEqual([]);
    },
  );
});
