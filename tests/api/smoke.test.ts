// The seed's smoke scenario through the real app: sign in → create a channel → send a message → the list
// shows it → its outbox row exists, correlated with the request that caused it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedIds } from '../harness/database.ts';
import { call, devLogin, startTestGateway, type TestGateway } from './helpers.ts';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway('api_smoke');
});
afterAll(async () => {
  await gateway?.close();
});

describe('smoke scenario', () => {
  it('signs in, creates a channel, sends a message, lists it and finds its outbox event under the request id', async () => {
    const { app, database } = gateway;
    const alice = await devLogin(app, 'alice@demo.local');
    expect(alice.userId).toBe(seedIds.alice);

    const channel = await call<{ id: string; team_id: string }>(app, 'POST', '/api/channels', {
      token: alice.token,
      body: { team_id: seedIds.demoTeam, name: 'smoke-test', topic: 'Smoke' },
    });
    expect(channel.status).toBe(201);
    expect(channel.body.team_id).toBe(seedIds.demoTeam);

    const requestId = `smoke-${Date.now()}`;
    const sent = await call<{ id: string; body: string; author_id: string }>(app, 'POST', '/api/messages', {
      token: alice.token,
      headers: { 'X-Request-ID': requestId },
      body: { channel_id: channel.body.id, body: 'Hello from the smoke test' },
    });
    expect(sent.status).toBe(201);
    expect(sent.headers.get('x-request-id')).toBe(requestId);
    expect(sent.body).toMatchObject({ body: 'Hello from the smoke test', author_id: alice.userId });

    const listed = await call<{ items: { id: string; body: string }[] }>(app, 'GET', `/api/messages?channel_id=${channel.body.id}`, {
      token: alice.token,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((m) => m.id)).toEqual([sent.body.id]);

    const outbox = await database.sql<
      { event_type: string; aggregate_id: string; correlation_id: string; payload: { message_id: string } }[]
    >`
      select event_type, aggregate_id, correlation_id, payload from public.outbox_events where aggregate_id = ${sent.body.id}`;
    expect(outbox).toEqual([
      expect.objectContaining({
        event_type: 'message.created',
        correlation_id: requestId,
        payload: expect.objectContaining({ message_id: sent.body.id }),
      }),
    ]);
  });
});
