// Outbound Embassy webhooks end to end on real Postgres, NATS and HTTP: signed partner webhooks through the
// gateway → inventory changes applied by the Embassy consumer (a real process) → `rwa.inventory_changed`
// queued for every subscribed, linked partner → posted as Standard Webhooks to local partner endpoints (the
// simulator's receiver, verifying each signature). One endpoint fails 3 times per webhook then succeeds; the
// other fails always, ends dead-lettered, and is redelivered by a platform admin (audited).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { parseSecrets, signWebhook } from '../../functions/_shared/embassy/signatures.ts';
import { startOutboundReceiver } from '../../scripts/embassy-receiver.ts';
import { call, devLogin, expectErrorShape, startTestGateway } from '../api/helpers.ts';
import { seedIds } from '../harness/database.ts';
import { testServices } from '../harness/services.ts';
import { useSharedNats } from '../relay/support/fixture.ts';
import { databaseSettings, deleteStreams, freshStreams, provision, startRelay, waitFor } from '../relay/support/relay-env.ts';
import { ENERGY_SECRET, energyProduced, GREENFOOD_SECRET, OTHER_SECRET, partnerSecretsEnv, sendWebhook } from './helpers.ts';

const fixture = useSharedNats();
const MAX_ATTEMPTS = 5;

function spawnEmbassyConsumer(databaseUrl: string, streams: ReturnType<typeof freshStreams>): ChildProcess {
  const settings = databaseSettings(databaseUrl);
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/consumers/embassy/main.ts'], {
    env: {
      PATH: process.env.PATH,
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'test',
      LOG_LEVEL: 'error',
      DB_HOST: settings.DB_HOST,
      DB_PORT: String(settings.DB_PORT),
      DB_NAME: settings.DB_NAME,
      DB_USER: settings.DB_USER,
      NATS_URL: testServices.natsUrl,
      NATS_STREAM_EVENTS: streams.NATS_STREAM_EVENTS,
      NATS_SUBJECT_PREFIX: streams.NATS_SUBJECT_PREFIX,
      NATS_CONSUMER_EMBASSY: 'embassy-outbound-test',
      CONSUMER_ACK_WAIT_SECONDS: '2',
      EMBASSY_WEBHOOK_SECRET_ENERGY_UNION: ENERGY_SECRET,
      EMBASSY_WEBHOOK_SECRET_GREENFOOD: GREENFOOD_SECRET,
      EMBASSY_OUTBOUND_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      EMBASSY_OUTBOUND_BACKOFF_BASE_MS: '40',
      EMBASSY_OUTBOUND_BACKOFF_MAX_MS: '200',
      EMBASSY_OUTBOUND_TIMEOUT_MS: '2000',
      EMBASSY_OUTBOUND_POLL_INTERVAL_MS: '50',
      METRICS_PORT: String(20_000 + Math.floor(Math.random() * 40_000)),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  fixture.afterTest(async () => child.kill('SIGKILL'));
  return child;
}

describe('outbound Embassy webhooks', () => {
  it('deliver each event once through failures, dead-letter a dead endpoint, and redeliver by hand', async () => {
    const gateway = await startTestGateway('embassy_outbound', { env: partnerSecretsEnv });
    fixture.afterTest(() => gateway.close());
    const db = gateway.database.sql;
    const alice = await devLogin(gateway.app, 'alice@demo.local');
    for (const partner of ['energy-union', 'greenfood']) {
      const linked = await call(gateway.app, 'POST', `/api/teams/${seedIds.demoTeam}/embassy/links`, {
        token: alice.token,
        body: { partner },
      });
      expect(linked.status).toBe(201);
    }

    // Energy Union's endpoint fails the first 3 attempts of every webhook; GREENFOOD's fails until fixed
    const flaky = await startOutboundReceiver({ secretsOf: () => parseSecrets(ENERGY_SECRET), failFirst: 3 });
    fixture.afterTest(() => flaky.close());
    const brokenOptions = { secretsOf: () => parseSecrets(GREENFOOD_SECRET), failAlways: true };
    const broken = await startOutboundReceiver(brokenOptions);
    fixture.afterTest(() => broken.close());
    await db`update public.embassies set endpoint_url = ${`${flaky.url}/energy-union/webhooks`} where partner = 'energy-union'`;
    await db`update public.embassies set endpoint_url = ${`${broken.url}/greenfood/webhooks`} where partner = 'greenfood'`;

    const EVENTS = 4;
    for (let n = 0; n < EVENTS; n += 1) {
      const answer = await sendWebhook(gateway.app, 'energy-union', energyProduced(seedIds.demoTeam, `${n + 1}.5`), { id: `out_${n}` });
      expect(answer.status).toBe(202);
    }

    const streams = freshStreams();
    await provision(fixture.jsm, streams);
    fixture.afterTest(() => deleteStreams(fixture.jsm, streams));
    const relay = await startRelay(databaseSettings(gateway.database.url), testServices.natsUrl, streams);
    fixture.afterTest(() => relay.stop());
    spawnEmbassyConsumer(gateway.database.url, streams);

    const byStatus = async (partner: string, status: string) =>
      Number(
        (await db`select count(*)::int as n from public.embassy_outbound_deliveries where partner = ${partner} and status = ${status}`)[0]!
          .n,
      );
    await waitFor('Energy Union received every event', async () => (await byStatus('energy-union', 'delivered')) === EVENTS, 60_000, 100);
    await waitFor('GREENFOOD dead-lettered every event', async () => (await byStatus('greenfood', 'dead')) === EVENTS, 60_000, 100);

    // webhook-id is the platform event's id: one verified delivery each, after exactly 3 refused attempts
    const changes = await db<{ id: string }[]>`select id from public.outbox_events where event_type = 'rwa.inventory_changed'`;
    expect(changes).toHaveLength(EVENTS);
    const eventIds = changes.map((change) => change.id).sort();
    expect([...flaky.processed.get('energy-union')!].sort()).toEqual(eventIds);
    for (const id of eventIds) {
      const attempts = flaky.received.filter((webhook) => webhook.webhookId === id);
      expect(attempts.map((webhook) => webhook.outcome)).toEqual([
        'failed_on_purpose',
        'failed_on_purpose',
        'failed_on_purpose',
        'verified',
      ]);
    }
    expect(flaky.received.some((webhook) => webhook.outcome === 'refused')).toBe(false);
    const delivered = flaky.received.find((webhook) => webhook.outcome === 'verified')!.body as { type: string; data: { team_id: string } };
    expect(delivered.type).toBe('rwa.inventory_changed');
    expect(delivered.data.team_id).toBe(seedIds.demoTeam);
    const rows = await db`
      select partner, status, attempts, last_response_code from public.embassy_outbound_deliveries order by partner, status`;
    expect(new Set(rows.map((row) => JSON.stringify(row)))).toEqual(
      new Set([
        JSON.stringify({ partner: 'energy-union', status: 'delivered', attempts: 4, last_response_code: 204 }),
        JSON.stringify({ partner: 'greenfood', status: 'dead', attempts: MAX_ATTEMPTS, last_response_code: 503 }),
      ]),
    );
    expect(broken.received.filter((webhook) => webhook.outcome === 'failed_on_purpose')).toHaveLength(EVENTS * MAX_ATTEMPTS);

    // the admin console: dead letters listed; a team owner may not redeliver; a platform admin may, once
    const ops = (await devLogin(gateway.app, 'ops@demo.local')).token;
    const dead = await call<{ items: { id: string; last_error: string }[] }>(
      gateway.app,
      'GET',
      '/api/admin/embassy/outbound?status=dead&partner=greenfood',
      { token: ops },
    );
    expect(dead.status).toBe(200);
    expect(dead.body.items).toHaveLength(EVENTS);
    expect(dead.body.items[0]!.last_error).toContain('503');
    const target = dead.body.items[0]!.id;
    const refused = await call(gateway.app, 'POST', `/api/admin/embassy/outbound/${target}/redeliver`, { token: alice.token });
    expect(refused.status).toBe(403);
    expect(expectErrorShape(refused).code).toBe('capability_missing');

    brokenOptions.failAlways = false;
    const redelivered = await call(gateway.app, 'POST', `/api/admin/embassy/outbound/${target}/redeliver`, { token: ops });
    expect(redelivered.status).toBe(200);
    expect(redelivered.body).toEqual({ id: target, status: 'pending' });
    await waitFor(
      'the redelivered webhook delivered',
      async () => (await db`select status from public.embassy_outbound_deliveries where id = ${target}`)[0]!.status === 'delivered',
      30_000,
      100,
    );
    expect(broken.processed.get('greenfood')!.size).toBe(1);
    const [audit] = await db`
      select a.action, a.target_id, p.email from public.audit_log a join auth.users p on p.id = a.actor_id
      where a.action = 'embassy.outbound_redelivered'`;
    expect(audit).toMatchObject({ action: 'embassy.outbound_redelivered', target_id: target, email: 'ops@demo.local' });

    const again = await call(gateway.app, 'POST', `/api/admin/embassy/outbound/${target}/redeliver`, { token: ops });
    expect(again.status).toBe(409);
    expect(expectErrorShape(again).code).toBe('delivery_not_dead');
    const missing = await call(gateway.app, 'POST', `/api/admin/embassy/outbound/${crypto.randomUUID()}/redeliver`, { token: ops });
    expect(missing.status).toBe(404);
    expect(expectErrorShape(missing).code).toBe('delivery_not_found');
    // the other dead letters stay dead: nothing is redelivered that nobody asked for
    expect(await byStatus('greenfood', 'dead')).toBe(EVENTS - 1);
  }, 180_000);
});

describe('the simulator as a partner endpoint (npm run embassy:sim -- --receive)', () => {
  it('verifies signatures: a signed webhook is processed once, a forged one refused', async () => {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const sim = spawn(process.execPath, ['--import', 'tsx', 'scripts/embassy-sim.ts', '--receive', String(port)], {
      env: { PATH: process.env.PATH, EMBASSY_WEBHOOK_SECRET_WATER_UNION: OTHER_SECRET },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    fixture.afterTest(async () => sim.kill('SIGKILL'));
    const lines: string[] = [];
    createInterface({ input: sim.stdout! }).on('line', (line) => lines.push(line));
    await waitFor('the simulator listening', () => lines.some((line) => line.startsWith('receiving')), 20_000, 50);

    const url = `http://127.0.0.1:${port}/water-union/webhooks`;
    const body = JSON.stringify({ type: 'rwa.inventory_changed', timestamp: new Date().toISOString(), data: { version: 1 } });
    const post = (secret: string, id: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...signWebhook(parseSecrets(secret), id, body) }, body });
    expect((await post(OTHER_SECRET, 'evt-1')).status).toBe(204);
    expect((await post(OTHER_SECRET, 'evt-1')).status).toBe(200);
    expect((await post(ENERGY_SECRET, 'evt-2')).status).toBe(401);
    await waitFor('three lines printed', () => lines.length >= 4, 5_000, 20);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['verified', 'duplicate', 'refused']);
    expect(lines[3]).toContain('webhook_signature_mismatch');
    sim.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => sim.once('exit', resolve));
    expect(code).toBe(1); // a refused signature makes the simulator's run a failure
  }, 60_000);
});
