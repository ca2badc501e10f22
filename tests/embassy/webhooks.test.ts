// Inbound partner webhooks through the real gateway on a fresh database: verified to the Standard Webhooks
// specification (its published test vector included); every way a webhook can be wrong refused with its own
// code and nothing written; secret rotation; a replayed id answered as the first time; unknown types stored
// and answered 422; an accepted webhook's delivery row and outbox event committed together.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook } from '../../functions/_shared/embassy/signatures.ts';
import { seedIds } from '../harness/database.ts';
import { expectErrorShape, startTestGateway, type TestGateway } from '../api/helpers.ts';
import { ENERGY_PREVIOUS_SECRET, ENERGY_SECRET, OTHER_SECRET, energyProduced, partnerSecretsEnv, sendWebhook } from './helpers.ts';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway('embassy_webhooks', { env: partnerSecretsEnv });
});
afterAll(async () => {
  await gateway?.close();
});

const written = async () => {
  const [row] = await gateway.database.sql<{ deliveries: number; events: number }[]>`
    select (select count(*)::int from public.embassy_webhook_deliveries) as deliveries,
           (select count(*)::int from public.outbox_events where event_type = 'embassy.webhook_received') as events`;
  return row!;
};

describe('the Standard Webhooks test vector', () => {
  // from the specification (standard-webhooks/spec.md, "Example")
  const vector = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };

  it('signs to the published signature and verifies it at its time, with several signatures in the header', () => {
    const secret = new Webhook(vector.secret);
    expect(secret.sign(vector.id, new Date(vector.timestamp * 1000), vector.body)).toBe(vector.signature);
    vi.useFakeTimers({ now: vector.timestamp * 1000 + 60_000, toFake: ['Date'] });
    try {
      const headers = { 'webhook-id': vector.id, 'webhook-timestamp': String(vector.timestamp) };
      const body = new TextEncoder().encode(vector.body);
      expect(verifyWebhook([secret], body, { ...headers, 'webhook-signature': vector.signature })).toEqual({
        ok: true,
        outcome: 'verified',
      });
      const rotated = `v1,bm90LXRoaXMtb25lLWF0LWFsbC0wMTIzNDU2Nzg5YWI= ${vector.signature}`;
      expect(verifyWebhook([secret], body, { ...headers, 'webhook-signature': rotated })).toMatchObject({ ok: true });
      expect(verifyWebhook([secret], body, { ...headers, 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE' })).toEqual({
        ok: false,
        refusal: 'webhook_signature_mismatch',
      });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('POST /api/embassy/{partner}/webhooks', () => {
  it('accepts a signed event: 202, its delivery row and outbox event committed together', async () => {
    const answer = await sendWebhook(gateway.app, 'energy-union', energyProduced(seedIds.demoTeam, '12.5'), { id: 'msg_accept_1' });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ webhook_id: 'msg_accept_1', status: 'accepted' });
    const [delivery] = await gateway.database.sql`
      select d.status, d.signature_outcome, d.team_id, d.event_type, o.payload ->> 'delivery_id' as event_delivery, o.correlation_id
      from public.embassy_webhook_deliveries d
      join public.outbox_events o on o.aggregate_id = d.id::text and o.event_type = 'embassy.webhook_received'
      where d.webhook_id = 'msg_accept_1'`;
    expect(delivery).toMatchObject({
      status: 'accepted',
      signature_outcome: 'verified',
      team_id: seedIds.demoTeam,
      event_type: 'energy.produced',
      event_delivery: answer.body.delivery_id,
      correlation_id: answer.headers.get('x-request-id'),
    });
  });

  it('answers a replayed webhook id with the first answer, writing nothing more, even if the body differs', async () => {
    const first = await sendWebhook(gateway.app, 'energy-union', energyProduced(seedIds.demoTeam, '1'), { id: 'msg_replay' });
    const before = await written();
    const again = await sendWebhook(gateway.app, 'energy-union', energyProduced(seedIds.demoTeam, '1'), { id: 'msg_replay' });
    const changed = await sendWebhook(gateway.app, 'energy-union', energyProduced(seedIds.demoTeam, '999'), { id: 'msg_replay' });
    expect(first.status).toBe(202);
    for (const replay of [again, changed]) {
      expect(replay.status).toBe(202);
      expect(replay.body).toEqual(first.body);
      expect(replay.headers.get('webhook-replayed')).toBe('true');
    }
    expect(first.headers.get('webhook-replayed')).toBe('false');
    expect(await written()).toEqual(before);
  });

  it('accepts during a rotation: the previous secret alone, and both signatures together', async () => {
    const previous = await sendWebhook(gateway.app, 'energy-union', energyProduced(seedIds.demoTeam, '2'), {
      secrets: [ENERGY_PREVIOUS_SECRET],
      id: 'msg_rotation_previous',
    });
    const both = await sendWebhook(gateway.app, 'energy-union', energyProduced(seedIds.demoTeam, '2'), {
      secrets: [OTHER_SECRET, ENERGY_SECRET],
      id: 'msg_rotation_both',
    });
    expect([previous.status, both.status]).toEqual([202, 202]);
    const outcomes = await gateway.database.sql<{ webhook_id: string; signature_outcome: string }[]>`
      select webhook_id, signature_outcome from public.embassy_webhook_deliveries
      where webhook_id in ('msg_rotation_previous', 'msg_rotation_both') order by webhook_id`;
    expect(outcomes).toEqual([
      { webhook_id: 'msg_rotation_both', signature_outcome: 'verified' },
      { webhook_id: 'msg_rotation_previous', signature_outcome: 'verified_previous_secret' },
    ]);
  });

  const event = () => energyProduced(seedIds.demoTeam, '5');
  const refusals: { label: string; status: number; code: string; send: () => ReturnType<typeof sendWebhook> }[] = [
    {
      label: 'a forged signature',
      status: 401,
      code: 'webhook_signature_mismatch',
      send: () =>
        sendWebhook(gateway.app, 'energy-union', event(), {
          headers: (h) => ({ ...h, 'webhook-signature': 'v1,Zm9yZ2VkLXNpZ25hdHVyZS0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OQ==' }),
        }),
    },
    {
      label: 'the wrong secret',
      status: 401,
      code: 'webhook_signature_mismatch',
      send: () => sendWebhook(gateway.app, 'energy-union', event(), { secrets: [OTHER_SECRET] }),
    },
    {
      label: "another partner's secret",
      status: 401,
      code: 'webhook_signature_mismatch',
      send: () => sendWebhook(gateway.app, 'greenfood', event(), { secrets: [ENERGY_SECRET] }),
    },
    {
      label: 'a body changed by one byte',
      status: 401,
      code: 'webhook_signature_mismatch',
      send: () =>
        sendWebhook(gateway.app, 'energy-union', event(), { tamper: (b) => b.map((byte, i) => (i === b.length - 2 ? byte ^ 1 : byte)) }),
    },
    {
      label: 'a timestamp 6 minutes old',
      status: 401,
      code: 'webhook_timestamp_stale',
      send: () => sendWebhook(gateway.app, 'energy-union', event(), { at: new Date(Date.now() - 6 * 60_000) }),
    },
    {
      label: 'a timestamp 6 minutes ahead',
      status: 401,
      code: 'webhook_timestamp_future',
      send: () => sendWebhook(gateway.app, 'energy-union', event(), { at: new Date(Date.now() + 6 * 60_000) }),
    },
    {
      label: 'a timestamp that is not a number',
      status: 401,
      code: 'webhook_timestamp_invalid',
      send: () => sendWebhook(gateway.app, 'energy-union', event(), { headers: (h) => ({ ...h, 'webhook-timestamp': 'yesterday' }) }),
    },
    {
      label: 'a missing webhook-signature',
      status: 401,
      code: 'webhook_headers_missing',
      send: () => sendWebhook(gateway.app, 'energy-union', event(), { headers: ({ 'webhook-signature': _, ...h }) => h }),
    },
    {
      label: 'a missing webhook-id',
      status: 401,
      code: 'webhook_headers_missing',
      send: () => sendWebhook(gateway.app, 'energy-union', event(), { headers: ({ 'webhook-id': _, ...h }) => h }),
    },
    {
      label: 'a body over BODY_LIMIT_BYTES',
      status: 413,
      code: 'body_too_large',
      send: () => sendWebhook(gateway.app, 'energy-union', { ...event(), padding: 'x'.repeat(20_000) }),
    },
    { label: 'an unknown partner', status: 404, code: 'partner_unknown', send: () => sendWebhook(gateway.app, 'moon-union', event()) },
    {
      label: 'a partner without a configured secret',
      status: 503,
      code: 'partner_not_configured',
      send: () => sendWebhook(gateway.app, 'essence-stream', event()),
    },
    {
      label: 'a signed body that is not JSON',
      status: 400,
      code: 'webhook_body_not_json',
      send: () => sendWebhook(gateway.app, 'energy-union', 'not json {'),
    },
  ];

  it.each(refusals)('refuses $label with $code and writes nothing', async ({ status, code, send }) => {
    const before = await written();
    const answer = await send();
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(expectErrorShape(answer).code).toBe(code);
    expect(await written()).toEqual(before);
  });

  it('stores an event type the partner does not send and answers 422, without queueing it; a replay gets the same 422', async () => {
    const body = { type: 'energy.teleported', timestamp: new Date().toISOString(), data: { team_id: seedIds.demoTeam } };
    const answer = await sendWebhook(gateway.app, 'energy-union', body, { id: 'msg_unknown_type' });
    expect(answer.status).toBe(422);
    expect(expectErrorShape(answer).code).toBe('webhook_type_unknown');
    const replay = await sendWebhook(gateway.app, 'energy-union', body, { id: 'msg_unknown_type' });
    expect([replay.status, replay.body]).toEqual([422, answer.body]);
    const rows = await gateway.database.sql`
      select d.status, (select count(*)::int from public.outbox_events o where o.aggregate_id = d.id::text) as events
      from public.embassy_webhook_deliveries d where d.webhook_id = 'msg_unknown_type'`;
    expect(rows).toEqual([{ status: 'unknown_type', events: 0 }]);
  });

  it('stores a payload off its schema and answers 422 naming the field', async () => {
    const body = energyProduced(seedIds.demoTeam, '-3');
    const answer = await sendWebhook(gateway.app, 'energy-union', body, { id: 'msg_bad_payload' });
    expect(answer.status).toBe(422);
    const error = expectErrorShape(answer);
    expect(error.code).toBe('webhook_payload_invalid');
    expect(error.message).toContain('data.kwh');
    const [row] = await gateway.database.sql`select status from public.embassy_webhook_deliveries where webhook_id = 'msg_bad_payload'`;
    expect(row).toEqual({ status: 'invalid_payload' });
  });

  it('answers concurrent deliveries of one webhook id once, with one row and one event', async () => {
    const body = energyProduced(seedIds.demoTeam, '7');
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => sendWebhook(gateway.app, 'energy-union', body, { id: 'msg_concurrent' })),
    );
    for (const answer of answers) expect([answer.status, answer.body]).toEqual([202, answers[0]!.body]);
    expect(answers.filter((answer) => answer.headers.get('webhook-replayed') === 'false')).toHaveLength(1);
    const [row] = await gateway.database.sql`
      select count(*)::int as deliveries,
        (select count(*)::int from public.outbox_events o join public.embassy_webhook_deliveries d on o.aggregate_id = d.id::text
         where d.webhook_id = 'msg_concurrent') as events
      from public.embassy_webhook_deliveries where webhook_id = 'msg_concurrent'`;
    expect(row).toEqual({ deliveries: 1, events: 1 });
  });
});
