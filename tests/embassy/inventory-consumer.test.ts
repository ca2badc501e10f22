// The Embassy consumer (workers/consumers/embassy/main.ts, as a real process) applying partner webhooks to the
// RWA inventory exactly once: signed webhooks through the gateway → outbox → relay → stream → consumer,
// which is SIGKILLed mid-batch and restarted while some deliveries are announced a second time (new event
// ids, as an outbox replay would) — the inventory ends equal to the sum of the distinct accepted events.
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { call, devLogin, startTestGateway } from '../api/helpers.ts';
import { seedIds } from '../harness/database.ts';
import { testServices } from '../harness/services.ts';
import { useSharedNats } from '../relay/support/fixture.ts';
import { databaseSettings, enqueue, freshStreams, provision, deleteStreams, startRelay, waitFor } from '../relay/support/relay-env.ts';
import { energyProduced, partnerSecretsEnv, sendWebhook } from './helpers.ts';

const fixture = useSharedNats();

function spawnConsumer(databaseUrl: string, streams: ReturnType<typeof freshStreams>): ChildProcess {
  const settings = databaseSettings(databaseUrl);
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/consumers/embassy/main.ts'], {
    env: {
      PATH: process.env.PATH,
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'test',
      LOG_LEVEL: 'warn',
      DB_HOST: settings.DB_HOST,
      DB_PORT: String(settings.DB_PORT),
      DB_NAME: settings.DB_NAME,
      DB_USER: settings.DB_USER,
      NATS_URL: testServices.natsUrl,
      NATS_STREAM_EVENTS: streams.NATS_STREAM_EVENTS,
      NATS_SUBJECT_PREFIX: streams.NATS_SUBJECT_PREFIX,
      NATS_CONSUMER_EMBASSY: 'embassy-test',
      CONSUMER_ACK_WAIT_SECONDS: '2',
      METRICS_PORT: String(20_000 + Math.floor(Math.random() * 40_000)),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  fixture.afterTest(async () => child.kill('SIGKILL'));
  return child;
}

describe('the Embassy consumer', () => {
  it('applies each distinct accepted event once through a kill mid-batch, replays and re-announcements', async () => {
    const gateway = await startTestGateway('embassy_consumer', { env: partnerSecretsEnv });
    fixture.afterTest(() => gateway.close());
    const db = gateway.database.sql;
    const alice = await devLogin(gateway.app, 'alice@demo.local');
    const linked = await call(gateway.app, 'POST', `/api/teams/${seedIds.demoTeam}/embassy/links`, {
      token: alice.token,
      body: { partner: 'energy-union' },
    });
    expect(linked.status).toBe(201);
    const carol = await devLogin(gateway.app, 'carol@other.test');
    const unlinkedTeam = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: carol.token, body: { name: 'Unlinked' } }))
      .body.id;

    // 120 distinct events on two meters, in thousandths of a kWh so the expected sums are exact integers
    const DISTINCT = 120;
    const expected = new Map<string, bigint>([
      ['meter-a', 0n],
      ['meter-b', 0n],
    ]);
    for (let n = 0; n < DISTINCT; n += 1) {
      const thousandths = BigInt(1000 + n * 37);
      const meter = n % 2 ? 'meter-a' : 'meter-b';
      expected.set(meter, expected.get(meter)! + thousandths);
      const kwh = `${thousandths / 1000n}.${String(thousandths % 1000n).padStart(3, '0')}`;
      const answer = await sendWebhook(gateway.app, 'energy-union', energyProduced(seedIds.demoTeam, kwh, meter), { id: `msg_${n}` });
      expect(answer.status).toBe(202);
      // every tenth event is sent twice by the partner: the gateway answers the first answer and writes nothing
      if (n % 10 === 0) await sendWebhook(gateway.app, 'energy-union', energyProduced(seedIds.demoTeam, '999', meter), { id: `msg_${n}` });
    }
    for (let n = 0; n < 5; n += 1) {
      await sendWebhook(gateway.app, 'energy-union', energyProduced(unlinkedTeam, '50'), { id: `msg_unlinked_${n}` });
    }

    const streams = freshStreams();
    await provision(fixture.jsm, streams);
    fixture.afterTest(() => deleteStreams(fixture.jsm, streams));
    const relay = await startRelay(databaseSettings(gateway.database.url), testServices.natsUrl, streams);
    fixture.afterTest(() => relay.stop());

    const processed = async () =>
      Number((await db`select count(*)::int as n from public.embassy_webhook_deliveries where processed_at is not null`)[0]!.n);
    const first = spawnConsumer(gateway.database.url, streams);
    await waitFor('the first deliveries applied', async () => (await processed()) >= 10, 60_000, 5);
    first.kill('SIGKILL');
    const killedAt = await processed();

    // the first 20 deliveries announced again under new event ids (an outbox replay): the delivery row stops them
    const again = await db<{ id: string; webhook_id: string }[]>`
      select id, webhook_id from public.embassy_webhook_deliveries
      where webhook_id like 'msg\\_%' and webhook_id not like 'msg\\_unlinked%' order by received_at limit 20`;
    for (const delivery of again) {
      await enqueue(db, {
        type: 'embassy.webhook_received',
        aggregateType: 'embassy_delivery',
        aggregateId: delivery.id,
        payload: {
          delivery_id: delivery.id,
          partner: 'energy-union',
          webhook_id: delivery.webhook_id,
          event_type: 'energy.produced',
          team_id: seedIds.demoTeam,
        },
      });
    }

    spawnConsumer(gateway.database.url, streams);
    await waitFor('every delivery processed', async () => (await processed()) === DISTINCT + 5, 90_000, 100);
    await waitFor(
      'the consumer caught up',
      async () => {
        const info = await fixture.jsm.consumers.info(streams.NATS_STREAM_EVENTS, 'embassy-test');
        return info.num_pending + info.num_ack_pending === 0;
      },
      30_000,
      100,
    );

    const inventory = await db<{ asset_ref: string; thousandths: string; version: number; movements: number }[]>`
      select i.asset_ref, (i.quantity * 1000)::bigint::text as thousandths, i.version::int as version,
        (select count(*)::int from public.rwa_movements m where m.inventory_id = i.id) as movements
      from public.rwa_inventory i order by i.asset_ref`;
    expect(inventory).toEqual([
      { asset_ref: 'meter-a', thousandths: String(expected.get('meter-a')), version: DISTINCT / 2, movements: DISTINCT / 2 },
      { asset_ref: 'meter-b', thousandths: String(expected.get('meter-b')), version: DISTINCT / 2, movements: DISTINCT / 2 },
    ]);
    const results = await db`
      select result, count(*)::int as n from public.embassy_webhook_deliveries group by result order by result`;
    expect(results).toEqual([
      { result: 'applied', n: DISTINCT },
      { result: 'team_not_linked', n: 5 },
    ]);
    const [changes] = await db`select count(*)::int as n from public.outbox_events where event_type = 'rwa.inventory_changed'`;
    expect(changes).toEqual({ n: DISTINCT });
    console.info(`embassy consumer: killed after ${killedAt} of ${DISTINCT + 5} deliveries; ${again.length} re-announced`);
  }, 240_000);
});
