// The admin console's API: platform admins only (app_metadata set by the auth service; user_metadata, which
// a user can edit, does not count), and what it reports matches the truth: the outbox backlog and its oldest
// event, dead letters, the relay's lanes, the stream's messages and a durable consumer's pending count,
// the audit log newest first across teams.
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventStreamDefinition } from '../../functions/_shared/events/streams.ts';
import { seedIds } from '../harness/database.ts';
import { testServices, uniqueName } from '../harness/services.ts';
import { ensureStreams } from '../../workers/lib/streams.ts';
import { streamDefinitions } from '../../functions/_shared/events/streams.ts';
import type { LiveHub } from '../../functions/api/core/live-hub.ts';
import { testLiveHub } from './live-hub-helper.ts';
import { call, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

interface Component {
  name: string;
  status: 'ok' | 'degraded' | 'down';
  detail: string;
}
interface PlatformStatus {
  components: Component[];
  outbox: { backlog: number; oldest_unprocessed_age_seconds: number; dead_letters: number; lanes_held: number; lane_count: number } | null;
  streams: { name: string; found: boolean; messages: number | null; consumers: { name: string; pending: number }[] }[];
}
interface AuditPage {
  items: { id: string; action: string; actor_name: string | null; team_name: string | null; target_id: string | null }[];
  next_before_id: string | null;
}

let gateway: TestGateway;
let hub: LiveHub;
let nc: NatsConnection;
let ops: Session;
let alice: Session;

const component = (status: PlatformStatus, name: string) => status.components.find((c) => c.name === name);
const readStatus = async () => {
  const answer = await call<PlatformStatus>(gateway.app, 'GET', '/api/admin/status', { token: ops.token });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
};

beforeAll(async () => {
  const subjectPrefix = uniqueName('mdao_admin');
  hub = testLiveHub(subjectPrefix);
  gateway = await startTestGateway('api_admin', {
    env: { NATS_STREAM_EVENTS: uniqueName('MDAO_ADMIN').toUpperCase(), NATS_SUBJECT_PREFIX: subjectPrefix },
    app: { live: hub },
  });
  // ops@demo.local is the seed's platform admin; Mallory claims to be one where users can write
  await gateway.database.sql`
    insert into auth.users (email, raw_user_meta_data) values ('mallory@demo.local', '{"display_name": "Mallory", "platform_admin": true}')`;
  nc = await connect({ servers: testServices.natsUrl });
  [ops, alice] = await Promise.all([devLogin(gateway.app, 'ops@demo.local'), devLogin(gateway.app, 'alice@demo.local')]);
});
afterAll(async () => {
  if (nc) {
    const jsm = await jetstreamManager(nc);
    for (const { name } of streamDefinitions(gateway.config)) await jsm.streams.delete(name).catch(() => false);
    await nc.close();
  }
  await hub?.close();
  await gateway?.close();
});

describe('who may use the admin API', () => {
  it('refuses team members, even owners, with 403 capability_missing naming platform.admin', async () => {
    for (const path of ['/api/admin/status', '/api/admin/audit']) {
      const answer = await call(gateway.app, 'GET', path, { token: alice.token });
      expect(answer.status).toBe(403);
      expect(expectErrorShape(answer)).toMatchObject({ code: 'capability_missing', message: expect.stringContaining('platform.admin') });
    }
  });

  it('does not take platform_admin from user_metadata, which users can edit themselves', async () => {
    const mallory = await devLogin(gateway.app, 'mallory@demo.local');
    const answer = await call(gateway.app, 'GET', '/api/admin/status', { token: mallory.token });
    expect(answer.status).toBe(403);
  });

  it('refuses a request without an access token with 401', async () => {
    const answer = await call(gateway.app, 'GET', '/api/admin/status');
    expect(answer.status).toBe(401);
    expectErrorShape(answer);
  });
});

describe('GET /api/admin/status', () => {
  it('reports the outbox backlog and its oldest event, and that no relay holds a lane', async () => {
    const empty = await readStatus();
    expect(empty.outbox).toMatchObject({ backlog: 0, oldest_unprocessed_age_seconds: 0, dead_letters: 0, lanes_held: 0, lane_count: 16 });
    expect(component(empty, 'gateway')?.status).toBe('ok');
    expect(component(empty, 'database')?.status).toBe('ok');
    expect(component(empty, 'outbox relay')).toMatchObject({ status: 'down' });

    const posted = await call(gateway.app, 'POST', '/api/messages', {
      token: alice.token,
      body: { channel_id: seedIds.generalChannel, body: 'queued' },
    });
    expect(posted.status).toBe(201);
    await gateway.database.sql`update public.outbox_events set created_at = now() - interval '90 seconds'`;
    const queued = await readStatus();
    expect(queued.outbox?.backlog).toBe(1);
    expect(queued.outbox?.oldest_unprocessed_age_seconds).toBeGreaterThanOrEqual(90);
  });

  it('counts dead letters and marks them degraded', async () => {
    await gateway.database.sql`
      update public.outbox_events set dead_lettered_at = now(), attempts = 5, last_error = 'publish timed out'
      where id = (select id from public.outbox_events order by seq limit 1)`;
    const status = await readStatus();
    expect(status.outbox).toMatchObject({ dead_letters: 1, backlog: 0 });
    expect(component(status, 'dead letters')?.status).toBe('degraded');
  });

  it("reports a missing stream as down, then the stream's messages and a consumer's pending count", async () => {
    const missing = await readStatus();
    const definition = eventStreamDefinition(gateway.config);
    expect(missing.streams.find((s) => s.name === definition.name)).toMatchObject({ found: false });
    expect(component(missing, `stream ${definition.name}`)?.status).toBe('down');

    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, streamDefinitions(gateway.config));
    await jsm.consumers.add(definition.name, { durable_name: 'telemetry', ack_policy: AckPolicy.Explicit });
    const js = jsm.jetstream();
    await js.publish(definition.subjects[0]!, '{}');
    await js.publish(definition.subjects[0]!, '{}');

    const status = await readStatus();
    expect(status.streams.find((s) => s.name === definition.name)).toEqual({
      name: definition.name,
      found: true,
      messages: 2,
      consumers: [{ name: 'telemetry', pending: 2, ack_pending: 0, redelivered: 0 }],
    });
    expect(component(status, `stream ${definition.name}`)?.status).toBe('ok');
  });
});

describe('GET /api/admin/audit', () => {
  it('lists audit entries of every team newest first, with names, one page at a time', async () => {
    for (const name of ['audit-one', 'audit-two', 'audit-three']) {
      const created = await call(gateway.app, 'POST', '/api/channels', { token: alice.token, body: { team_id: seedIds.demoTeam, name } });
      expect(created.status).toBe(201);
    }
    const first = await call<AuditPage>(gateway.app, 'GET', '/api/admin/audit?limit=2', { token: ops.token });
    expect(first.status).toBe(200);
    expect(first.body.items.map((i) => [i.action, i.actor_name, i.team_name])).toEqual([
      ['channel.created', 'Alice', 'Demo Team'],
      ['channel.created', 'Alice', 'Demo Team'],
    ]);
    expect(first.body.next_before_id).toBe(first.body.items[1]!.id);
    const second = await call<AuditPage>(gateway.app, 'GET', `/api/admin/audit?limit=2&before_id=${first.body.next_before_id}`, {
      token: ops.token,
    });
    expect(second.body.items[0]).toMatchObject({ action: 'channel.created' });
    expect(Number(second.body.items[0]!.id)).toBeLessThan(Number(first.body.items[1]!.id));
  });

  it('answers 400 for a before_id that is not an audit id', async () => {
    const answer = await call(gateway.app, 'GET', '/api/admin/audit?before_id=abc', { token: ops.token });
    expect(answer.status).toBe(400);
    expect(expectErrorShape(answer).message).toMatch(/before_id/);
  });
});
