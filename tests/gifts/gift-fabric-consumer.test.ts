// The Gift Fabric consumer (workers/consumers/gift-fabric/main.ts, as a real process) on real Postgres and
// NATS: gifts sent through the gateway → outbox → relay → stream → consumer → ledger, delivered exactly once
// through a SIGKILL mid-way and an outbox replay that announces the same gifts again under new event ids; a
// gift the sender no longer covers when it is applied is refused with nothing moved. The ledger invariant is
// checked in SQL after each test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { call, devLogin, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';
import { testServices } from '../harness/services.ts';
import {
  connectJetStream,
  databaseSettings,
  deleteStreams,
  enqueue,
  freshStreams,
  provision,
  spawnWorker,
  startRelay,
  waitFor,
  type InProcessRelay,
  type RelayProcess,
  type StreamSettings,
} from '../relay/support/relay-env.ts';
import { expectLedgerBalanced } from './ledger-invariant.ts';

const CONSUMER = 'gift-fabric-test';
let gateway: TestGateway;
let streams: StreamSettings;
let relay: InProcessRelay;
let nats: Awaited<ReturnType<typeof connectJetStream>>;
let teamId: string;
let owner: Session;
let mia: Session;
let ned: Session;
const consumers: RelayProcess[] = [];

function startConsumer(metricsPort: number): RelayProcess {
  const worker = spawnWorker(
    'workers/consumers/gift-fabric/main.ts',
    databaseSettings(gateway.database.url),
    testServices.natsUrl,
    streams,
    {
      NATS_CONSUMER_GIFT_FABRIC: CONSUMER,
      CONSUMER_ACK_WAIT_SECONDS: '2',
      LOG_LEVEL: 'warn',
      METRICS_PORT: String(metricsPort),
    },
  );
  consumers.push(worker);
  return worker;
}

const sendGift = (from: Session, to: Session, amount: string, memo = '') =>
  call<{ id: string; status: string }>(gateway.app, 'POST', '/api/gifts', {
    token: from.token,
    headers: { 'idempotency-key': `gift-${crypto.randomUUID()}` },
    body: { team_id: teamId, recipient_id: to.userId, amount, memo },
  });
const grant = (to: Session, amount: string) =>
  call(gateway.app, 'POST', `/api/teams/${teamId}/wallet/credits`, { token: owner.token, body: { member_id: to.userId, amount } });
const balanceOf = async (who: Session) =>
  (await gateway.database.sql<{ b: string }[]>`select app.ledger_balance(${teamId}, ${'member:' + who.userId})::text as b`)[0]!.b;
const statusOf = async (ids: string[]) =>
  Object.fromEntries(
    (
      await gateway.database.sql<{ status: string; n: number }[]>`
        select status, count(*)::int as n from public.gifts where id = any(${ids}::uuid[]) group by status`
    ).map((row) => [row.status, row.n]),
  );
async function consumerCaughtUp(): Promise<void> {
  await waitFor(
    'the consumer caught up',
    async () => {
      const info = await nats.jsm.consumers.info(streams.NATS_STREAM_EVENTS, CONSUMER);
      return info.num_pending + info.num_ack_pending === 0;
    },
    60_000,
    100,
  );
}

beforeAll(async () => {
  gateway = await startTestGateway('gift_fabric', { seed: false });
  [owner, mia, ned] = await Promise.all([
    devLogin(gateway.app, 'olga@fabric.test', 'Olga'),
    devLogin(gateway.app, 'mia@fabric.test', 'Mia'),
    devLogin(gateway.app, 'ned@fabric.test', 'Ned'),
  ]);
  teamId = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Fabric' } })).body.id;
  await gateway.database.sql`
    insert into public.team_members (team_id, user_id, role) values (${teamId}, ${mia.userId}, 'member'), (${teamId}, ${ned.userId}, 'member')`;
  nats = await connectJetStream(testServices.natsUrl);
  streams = freshStreams();
  await provision(nats.jsm, streams);
  relay = await startRelay(databaseSettings(gateway.database.url), testServices.natsUrl, streams);
}, 60_000);
afterEach(async () => {
  for (const worker of consumers.splice(0)) {
    worker.child.kill('SIGTERM');
    await Promise.race([worker.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    worker.child.kill('SIGKILL');
  }
  await expectLedgerBalanced(gateway.database.sql);
});
afterAll(async () => {
  await relay?.stop();
  if (nats) {
    await deleteStreams(nats.jsm, streams);
    await nats.nc.close();
  }
  await gateway?.close();
});

describe('the Gift Fabric consumer', () => {
  it('delivers a sent gift: credits moved once, gift.delivered enqueued, counted on /metrics', async () => {
    expect((await grant(mia, '100')).status).toBe(201);
    const metricsPort = await ephemeralPort();
    startConsumer(metricsPort);
    const sent = await sendGift(mia, ned, '40', 'for the roof');
    expect(sent.status).toBe(201);
    await waitFor('the gift delivered', async () => (await statusOf([sent.body.id])).delivered === 1, 60_000, 100);
    expect([await balanceOf(mia), await balanceOf(ned)]).toEqual(['60', '40']);
    const events = await gateway.database.sql<{ event_type: string }[]>`
      select event_type from public.outbox_events where aggregate_id = ${sent.body.id} order by seq`;
    expect(events.map((e) => e.event_type)).toEqual(['gift.sent', 'gift.delivered']);
    const feed = await call<{ items: { id: string; status: string }[] }>(gateway.app, 'GET', `/api/gifts?team_id=${teamId}`, {
      token: ned.token,
    });
    expect(feed.body.items[0]).toMatchObject({ id: sent.body.id, status: 'delivered' });
    await waitFor(
      'the counters on /metrics',
      async () => {
        const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
        return (
          /microdao_gift_fabric_gifts_total\{outcome="delivered"\} 1\b/.test(text) &&
          /microdao_gift_fabric_delivery_lag_seconds_count 1\b/.test(text)
        );
      },
      15_000,
      200,
    );
  }, 120_000);

  it('applies each gift once through a SIGKILL mid-way and the same gifts announced again under new event ids', async () => {
    const GIFTS = 60;
    expect((await grant(mia, String(GIFTS * 5))).status).toBe(201);
    const before = { mia: BigInt(await balanceOf(mia)), ned: BigInt(await balanceOf(ned)) };
    const ids: string[] = [];
    for (let n = 0; n < GIFTS; n += 1) {
      const sent = await sendGift(mia, ned, '5', `gift ${n}`);
      expect(sent.status).toBe(201);
      ids.push(sent.body.id);
    }
    const first = startConsumer(await ephemeralPort());
    await waitFor('the first gifts delivered', async () => ((await statusOf(ids)).delivered ?? 0) >= 10, 60_000, 5);
    first.child.kill('SIGKILL');
    await first.exited;
    const deliveredAtKill = (await statusOf(ids)).delivered;

    // an outbox replay: the first 20 gifts' gift.sent announced again, under new event ids
    const sentPayloads = await gateway.database.sql<{ payload: Record<string, unknown> }[]>`
      select payload from public.outbox_events where event_type = 'gift.sent' and aggregate_id = any(${ids.slice(0, 20)}) order by seq`;
    for (const { payload } of sentPayloads) {
      await enqueue(gateway.database.sql, { type: 'gift.sent', aggregateType: 'gift', aggregateId: String(payload.gift_id), payload });
    }

    startConsumer(await ephemeralPort());
    await waitFor('every gift delivered', async () => (await statusOf(ids)).delivered === GIFTS, 90_000, 100);
    await consumerCaughtUp();

    const [moved] = await gateway.database.sql<{ transactions: number; references: number }[]>`
      select count(*)::int as transactions, count(distinct reference)::int as references
      from public.ledger_transactions where reference = any(${ids.map((id) => `gift:${id}`)})`;
    expect(moved).toEqual({ transactions: GIFTS, references: GIFTS });
    expect(BigInt(await balanceOf(mia))).toBe(before.mia - BigInt(GIFTS * 5));
    expect(BigInt(await balanceOf(ned))).toBe(before.ned + BigInt(GIFTS * 5));
    const [delivered] = await gateway.database.sql<{ n: number }[]>`
      select count(*)::int as n from public.outbox_events where event_type = 'gift.delivered' and aggregate_id = any(${ids})`;
    expect(delivered).toEqual({ n: GIFTS });
    console.info(`gift fabric: killed after ${deliveredAtKill} of ${GIFTS} gifts; ${sentPayloads.length} announced again`);
  }, 240_000);

  it('refuses a gift the sender no longer covers when it is applied: nothing moved, gift.refused enqueued', async () => {
    // no consumer yet: the gift waits as sent while its sender stakes the credits it was counting on
    expect((await grant(ned, '10')).status).toBe(201);
    const nedBefore = await balanceOf(ned);
    const miaBefore = await balanceOf(mia);
    const sent = await sendGift(ned, mia, nedBefore);
    expect(sent.status).toBe(201);
    const staked = await call(gateway.app, 'POST', `/api/teams/${teamId}/stakes`, {
      token: ned.token,
      body: { amount: nedBefore, lock_days: 0 },
    });
    expect(staked.status).toBe(201);
    // and a second gift now is refused at once: nothing is available
    const second = await sendGift(ned, mia, '1');
    expect(second.status).toBe(422);

    startConsumer(await ephemeralPort());
    await waitFor('the gift refused', async () => (await statusOf([sent.body.id])).refused === 1, 60_000, 100);
    const [gift] = await gateway.database.sql<{ refusal_reason: string; ledger_transaction_id: string | null }[]>`
      select refusal_reason, ledger_transaction_id from public.gifts where id = ${sent.body.id}`;
    expect(gift!.refusal_reason).toMatch(/^insufficient_credits: /);
    expect(gift!.ledger_transaction_id).toBeNull();
    expect([await balanceOf(ned), await balanceOf(mia)]).toEqual(['0', miaBefore]);
    const events = await gateway.database.sql<{ event_type: string }[]>`
      select event_type from public.outbox_events where aggregate_id = ${sent.body.id} order by seq`;
    expect(events.map((e) => e.event_type)).toEqual(['gift.sent', 'gift.refused']);
  }, 120_000);
});
