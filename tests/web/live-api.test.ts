// GET /api/live through the real app, real Postgres (RLS) and real NATS on a fresh subject prefix: an event
// reaches the members of its team and nobody else (a file attached to a message included), a new member starts receiving their new team's events,
// the stream ends when the access token expires, and every refusal has the error shape.
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken } from '../../functions/_shared/auth.ts';
import { subjectFor, type EventType } from '../../functions/_shared/events/catalog.ts';
import { EVENT_HEADERS } from '../../functions/_shared/events/headers.ts';
import type { LiveHub } from '../../functions/api/core/live-hub.ts';
import { readEvents } from '../../web/shared/live.ts';
import { seedIds } from '../harness/database.ts';
import { startPrivateNats } from '../harness/nats.ts';
import { testServices, uniqueName } from '../harness/services.ts';
import { call, devLogin, expectErrorShape, startTestGateway, TEST_JWT_SECRET, type Session, type TestGateway } from '../api/helpers.ts';
import { waitUntil } from '../../scripts/local-stack/processes.ts';
import { testLiveHub } from './live-hub-helper.ts';

let gateway: TestGateway;
let hub: LiveHub;
let nc: NatsConnection;
let alice: Session;
let bob: Session;
let carol: Session;
let carolTeam: string;
const prefix = () => gateway.config.NATS_SUBJECT_PREFIX;

interface ReceivedEvent {
  name: string;
  id: string;
  data: Record<string, unknown>;
}

interface LiveStream {
  status: number;
  events: ReceivedEvent[];
  ended: Promise<void>;
  /** Resolves with the first received event matching `predicate` (past or future). */
  next(predicate: (event: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  close(): void;
}

/** Opens /api/live as `token` and resolves once the `ready` event says the subscription is active. */
async function openLive(token: string, target: TestGateway = gateway): Promise<LiveStream> {
  const controller = new AbortController();
  const response = await target.app.request('/api/live', { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  const events: ReceivedEvent[] = [];
  const waiters = new Set<() => void>();
  const ended = response.body
    ? readEvents(response.body, controller.signal, (name, data, id) => {
        events.push({ name, id, data: JSON.parse(data) as Record<string, unknown> });
        for (const wake of waiters) wake();
      }).catch(() => {})
    : Promise.resolve();
  const stream: LiveStream = {
    status: response.status,
    events,
    ended,
    next(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching live event within ${timeoutMs} ms; received: ${JSON.stringify(events)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
  if (response.status === 200) await stream.next((e) => e.name === 'ready');
  return stream;
}

/** Publishes an event the way the outbox relay does: payload as the body, the envelope in headers. */
function publish(type: EventType, payload: Record<string, unknown>): string {
  const id = randomUUID();
  const h = natsHeaders();
  h.set(EVENT_HEADERS.id, id);
  h.set(EVENT_HEADERS.type, type);
  nc.publish(subjectFor(prefix(), type), JSON.stringify(payload), { headers: h });
  return id;
}

const messageCreated = (teamId: string, channelId: string) => ({
  message_id: randomUUID(),
  channel_id: channelId,
  team_id: teamId,
  author_id: seedIds.alice,
  parent_id: null,
  created_at: new Date().toISOString(),
});

beforeAll(async () => {
  const subjectPrefix = uniqueName('mdao_live');
  hub = testLiveHub(subjectPrefix);
  gateway = await startTestGateway('api_live', { env: { NATS_SUBJECT_PREFIX: subjectPrefix }, app: { live: hub } });
  nc = await connect({ servers: testServices.natsUrl });
  [alice, bob, carol] = await Promise.all([
    devLogin(gateway.app, 'alice@demo.local'),
    devLogin(gateway.app, 'bob@demo.local'),
    devLogin(gateway.app, 'carol@other.test', 'Carol'),
  ]);
  carolTeam = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: carol.token, body: { name: 'Other Team' } })).body.id;
});
afterAll(async () => {
  await nc?.close();
  await hub?.close();
  await gateway?.close();
});

describe('GET /api/live', () => {
  it("delivers an event of a team to that team's members, ids only", async () => {
    const [aliceLive, bobLive] = await Promise.all([openLive(alice.token), openLive(bob.token)]);
    try {
      const payload = messageCreated(seedIds.demoTeam, seedIds.generalChannel);
      const id = publish('message.created', payload);
      for (const live of [aliceLive, bobLive]) {
        const event = await live.next((e) => e.id === id);
        expect(event).toEqual({ name: 'message.created', id, data: payload });
      }
    } finally {
      aliceLive.close();
      bobLive.close();
    }
  });

  it('tells the members that a file was attached to a message they may already show (the city refetches its files)', async () => {
    const [bobLive, carolLive] = await Promise.all([openLive(bob.token), openLive(carol.token)]);
    try {
      const payload = { file_id: randomUUID(), team_id: seedIds.demoTeam, message_id: randomUUID(), channel_id: seedIds.generalChannel };
      const id = publish('file.attached', payload);
      expect(await bobLive.next((e) => e.id === id)).toEqual({ name: 'file.attached', id, data: payload });
      // a later event for Carol's own team arrives; the attachment in another team never did
      const own = publish('message.created', messageCreated(carolTeam, randomUUID()));
      await carolLive.next((e) => e.id === own);
      expect(carolLive.events.some((e) => e.id === id)).toBe(false);
    } finally {
      bobLive.close();
      carolLive.close();
    }
  });

  it('delivers nothing of a team to a member of another team', async () => {
    const carolLive = await openLive(carol.token);
    try {
      const demoEvent = publish('message.created', messageCreated(seedIds.demoTeam, seedIds.generalChannel));
      const demoChannel = publish('channel.created', {
        channel_id: randomUUID(),
        team_id: seedIds.demoTeam,
        name: 'secret',
        created_by: seedIds.alice,
      });
      // her own team's event, published after the others on the same subscription: once it arrives, the
      // demo team's events have been through the filter
      const ownEvent = publish('message.created', messageCreated(carolTeam, randomUUID()));
      await carolLive.next((e) => e.id === ownEvent);
      expect(carolLive.events.map((e) => e.id)).not.toContain(demoEvent);
      expect(carolLive.events.map((e) => e.id)).not.toContain(demoChannel);
      expect(carolLive.events.filter((e) => e.name !== 'ready').map((e) => e.data.team_id)).toEqual([carolTeam]);
    } finally {
      carolLive.close();
    }
  });

  it("starts delivering a team's events to someone who joins it while connected", async () => {
    const dave = await devLogin(gateway.app, 'dave@other.test', 'Dave');
    const daveLive = await openLive(dave.token);
    try {
      const before = publish('message.created', messageCreated(seedIds.demoTeam, seedIds.generalChannel));
      const invited = await call<{ id: string }>(gateway.app, 'POST', `/api/teams/${seedIds.demoTeam}/invitations`, {
        token: alice.token,
        body: { email: 'dave@other.test' },
      });
      expect(invited.status).toBe(201);
      const accepted = await call(gateway.app, 'POST', `/api/invitations/${invited.body.id}/accept`, { token: dave.token });
      expect(accepted.status).toBe(200);
      const joined = publish('team.member_added', {
        team_id: seedIds.demoTeam,
        user_id: dave.userId,
        role: 'member',
        added_by: seedIds.alice,
      });
      const after = publish('message.created', messageCreated(seedIds.demoTeam, seedIds.generalChannel));
      await daveLive.next((e) => e.id === after);
      const ids = daveLive.events.map((e) => e.id);
      expect(ids).toContain(joined);
      expect(ids).not.toContain(before);
    } finally {
      daveLive.close();
    }
  });

  it('ends the stream when the access token expires', async () => {
    const shortLived = await mintAccessToken(
      { JWT_SECRET: TEST_JWT_SECRET, JWT_AUDIENCE: 'authenticated', JWT_ISSUER: undefined },
      { id: bob.userId, email: bob.email },
      { ttlSeconds: 2 },
    );
    const live = await openLive(shortLived.access_token);
    const started = Date.now();
    await live.ended;
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('refuses a request without a valid access token', async () => {
    const missing = await call(gateway.app, 'GET', '/api/live');
    expect(missing.status).toBe(401);
    expect(expectErrorShape(missing).code).toBe('auth_missing');
    const forged = await call(gateway.app, 'GET', '/api/live', { token: `${alice.token.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(401);
  });
});

describe('GET /api/live when NATS goes away', () => {
  it('ends open streams (so clients reconnect and refetch) and serves new ones once NATS is back', async () => {
    const server = await startPrivateNats();
    const flaky = testLiveHub(uniqueName('mdao_flaky'), server.url);
    const flakyGateway = await startTestGateway('api_live_flaky', { app: { live: flaky } });
    try {
      const session = await devLogin(flakyGateway.app, 'alice@demo.local');
      const before = await openLive(session.token, flakyGateway);
      expect(before.status).toBe(200);
      await server.kill();
      const started = Date.now();
      await before.ended;
      expect(Date.now() - started).toBeLessThan(5000);

      await server.start();
      await waitUntil(
        'a new live stream after NATS is back',
        async () => {
          const after = await openLive(session.token, flakyGateway);
          after.close();
          return after.status === 200;
        },
        { timeoutMs: 20_000, intervalMs: 500 },
      );
    } finally {
      await server.destroy();
      await flaky.close();
      await flakyGateway.close();
    }
  });
});

describe('GET /api/live without NATS', () => {
  it('answers 503 live_unavailable instead of hanging', async () => {
    const offlineHub = testLiveHub('mdao_unused', 'nats://127.0.0.1:1');
    const offline = await startTestGateway('api_live_offline', { env: { NATS_URL: 'nats://127.0.0.1:1' }, app: { live: offlineHub } });
    try {
      const session = await devLogin(offline.app, 'alice@demo.local');
      const answer = await call(offline.app, 'GET', '/api/live', { token: session.token });
      expect(answer.status).toBe(503);
      expect(expectErrorShape(answer).code).toBe('live_unavailable');
    } finally {
      await offlineHub.close();
      await offline.close();
    }
  });
});
