// The post-deploy checklist item "Embassy test call" against a gateway served over HTTP, with the relay and
// the Embassy consumer running: it passes when the partners' signed samples are accepted, a forged one is
// refused and the inventory moves; it fails with a sentence when the consumer is not running.
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/_shared/log.ts';
import { applyPartnerEvent } from '../../workers/consumers/embassy/apply-partner-event.ts';
import { DurableConsumer } from '../../workers/consumers/durable-consumer.ts';
import { connectWorkerDatabase } from '../../workers/lib/postgres.ts';
import { createClient } from '../../scripts/lib/smoke/client.ts';
import { embassyCall } from '../../scripts/lib/smoke/checklist/embassy.ts';
import { call, devLogin, startTestGateway } from '../api/helpers.ts';
import { testServices } from '../harness/services.ts';
import { useSharedNats } from '../relay/support/fixture.ts';
import { databaseSettings, deleteStreams, freshStreams, provision, startRelay, waitFor } from '../relay/support/relay-env.ts';
import { partnerSecretsEnv } from './helpers.ts';

const fixture = useSharedNats();

describe('checklist item "Embassy test call"', () => {
  it('passes against a gateway with the relay and the Embassy consumer running, and says what is missing without the consumer', async () => {
    const gateway = await startTestGateway('embassy_smoke', { env: partnerSecretsEnv });
    fixture.afterTest(() => gateway.close());
    const server = serve({ fetch: gateway.app.fetch, hostname: '127.0.0.1', port: 0 });
    fixture.afterTest(() => new Promise((resolve) => server.close(resolve)));
    await new Promise((resolve) => server.once('listening', resolve));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;

    const owner = await devLogin(gateway.app, 'smoke@microdao.test');
    const team = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'smoke-checks' } });
    const client = createClient({ timeoutMs: 10_000 });
    client.setToken(owner.token);
    const context = { api, teamId: team.body.id, stamp: Date.now().toString(36), env: 'test', variables: partnerSecretsEnv };

    // nothing applies the accepted webhooks yet: the item must fail and say so
    const waiting = embassyCall.run(client, { ...context, stamp: `${context.stamp}a` });
    await expect(waiting).rejects.toThrow(/did not move within 30 s .*is the Embassy consumer \(consumer-embassy\) running\?/);

    const streams = freshStreams();
    await provision(fixture.jsm, streams);
    fixture.afterTest(() => deleteStreams(fixture.jsm, streams));
    const relay = await startRelay(databaseSettings(gateway.database.url), testServices.natsUrl, streams);
    fixture.afterTest(() => relay.stop());
    const sql = connectWorkerDatabase(databaseSettings(gateway.database.url), { applicationName: 'embassy-smoke-test', max: 2 });
    fixture.afterTest(() => sql.end());
    const consumer = new DurableConsumer({
      nc: fixture.nc,
      jsm: fixture.jsm,
      sql,
      stream: streams.NATS_STREAM_EVENTS,
      subjectPrefix: streams.NATS_SUBJECT_PREFIX,
      name: 'embassy-smoke',
      eventTypes: ['embassy.webhook_received'],
      handle: applyPartnerEvent,
      maxDeliver: 3,
      ackWaitMs: 5000,
      logger: createLogger({ level: 'error', sink: () => {} }),
    });
    await consumer.start();
    fixture.afterTest(() => consumer.stop());
    // the first run's webhooks are applied now; the second run must start from that inventory
    await waitFor(
      'the first run applied',
      async () => {
        const [row] = await gateway.database.sql`
        select count(*) filter (where processed_at is null)::int as waiting from public.embassy_webhook_deliveries where status = 'accepted'`;
        return row!.waiting === 0;
      },
      30_000,
      100,
    );

    const detail = await embassyCall.run(client, context);
    expect(detail).toMatch(/^3 partner\(s\) accepted, forged refused, inventory moved: energy-union\/energy\/roof-meter-1, greenfood/);
  }, 120_000);
});
