// The agents routes through the real app on real Postgres: who may register, list, start, cancel and decide;
// what each write leaves in the outbox (correlation id = request id); mentions start runs; teams and keys stay
// inside their own team and bundle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createAccessKey, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

let gateway: TestGateway;
let owner: Session;
let member: Session;
let outsider: Session;
let teamId: string;
let otherTeamId: string;
let channelId: string;
let agentId: string;

interface Run {
  id: string;
  status: string;
  correlation_id: string | null;
  channel_id: string | null;
  started_by: string;
  agent_name: string;
  steps: unknown[];
}

const outboxFor = (aggregateId: string) =>
  gateway.database.sql<{ event_type: string; correlation_id: string }[]>`
    select event_type, correlation_id from public.outbox_events where aggregate_id = ${aggregateId} order by seq`;

async function createTeam(session: Session, name: string): Promise<string> {
  const answer = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: session.token, body: { name } });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

beforeAll(async () => {
  gateway = await startTestGateway('agents_api', { seed: false });
  [owner, member, outsider] = await Promise.all([
    devLogin(gateway.app, 'olga@agents.test', 'Olga'),
    devLogin(gateway.app, 'mia@agents.test', 'Mia'),
    devLogin(gateway.app, 'otto@elsewhere.test', 'Otto'),
  ]);
  teamId = await createTeam(owner, 'Agents Co-op');
  otherTeamId = await createTeam(outsider, 'Elsewhere');
  // membership arranged behind the API: how members join is another domain's business
  await gateway.database.sql`insert into public.team_members (team_id, user_id, role) values (${teamId}, ${member.userId}, 'member')`;
  const channel = await call<{ id: string }>(gateway.app, 'POST', '/api/channels', {
    token: owner.token,
    body: { team_id: teamId, name: 'general' },
  });
  channelId = channel.body.id;
});
afterAll(async () => {
  await gateway?.close();
});

describe('agents', () => {
  it('lets an owner register an agent with its own principal; a member is refused, an outsider sees no team', async () => {
    const byMember = await call(gateway.app, 'POST', '/api/agents', {
      token: member.token,
      body: { team_id: teamId, name: 'summarizer', kind: 'summarizer' },
    });
    expect(byMember.status).toBe(403);
    expect(expectErrorShape(byMember).code).toBe('capability_missing');

    const registered = await call<{ id: string; principal_id: string; name: string; enabled: boolean; bundle: string }>(
      gateway.app,
      'POST',
      '/api/agents',
      { token: owner.token, headers: { 'X-Request-ID': 'register-1' }, body: { team_id: teamId, name: 'summarizer', kind: 'summarizer' } },
    );
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ name: 'summarizer', enabled: true, bundle: 'agent' });
    agentId = registered.body.id;
    const [principal] = await gateway.database
      .sql`select kind, team_id from public.service_principals where id = ${registered.body.principal_id}`;
    expect(principal).toEqual({ kind: 'agent', team_id: teamId });
    expect(await outboxFor(agentId)).toEqual([{ event_type: 'agent.registered', correlation_id: 'register-1' }]);

    const again = await call(gateway.app, 'POST', '/api/agents', {
      token: owner.token,
      body: { team_id: teamId, name: 'summarizer', kind: 'summarizer' },
    });
    expect(again.status).toBe(409);
    expect(expectErrorShape(again).code).toBe('agent_name_taken');

    const byOutsider = await call(gateway.app, 'GET', `/api/agents?team_id=${teamId}`, { token: outsider.token });
    expect(byOutsider.status).toBe(404);
    const byTeammate = await call<{ items: { id: string }[] }>(gateway.app, 'GET', `/api/agents?team_id=${teamId}`, {
      token: member.token,
    });
    expect(byTeammate.body.items.map((agent) => agent.id)).toEqual([agentId]);
  });

  it('refuses a role bundle for an agent and an unknown kind', async () => {
    const rootAgent = await call(gateway.app, 'POST', '/api/agents', {
      token: owner.token,
      body: { team_id: teamId, name: 'rooted', kind: 'summarizer', bundle: 'owner' },
    });
    expect(rootAgent.status).toBe(400);
    const unknownKind = await call(gateway.app, 'POST', '/api/agents', {
      token: owner.token,
      body: { team_id: teamId, name: 'oracle', kind: 'oracle' },
    });
    expect(expectErrorShape(unknownKind).code).toBe('invalid_body');
  });
});

describe('runs', () => {
  it('lets a member start a run: queued, with the request id as correlation id and its event', async () => {
    const started = await call<Run>(gateway.app, 'POST', `/api/agents/${agentId}/runs`, {
      token: member.token,
      headers: { 'X-Request-ID': 'start-run-1' },
      body: { channel_id: channelId, input: { messages: 5 } },
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      status: 'queued',
      correlation_id: 'start-run-1',
      started_by: member.userId,
      agent_name: 'summarizer',
    });
    expect(await outboxFor(started.body.id)).toEqual([{ event_type: 'agent_run.queued', correlation_id: 'start-run-1' }]);

    const fetched = await call<Run>(gateway.app, 'GET', `/api/agent-runs/${started.body.id}`, { token: owner.token });
    expect(fetched.body).toMatchObject({ id: started.body.id, status: 'queued', steps: [] });
    const listed = await call<{ items: Run[] }>(gateway.app, 'GET', `/api/agent-runs?team_id=${teamId}&status=queued`, {
      token: member.token,
    });
    expect(listed.body.items.map((run) => run.id)).toContain(started.body.id);
  });

  it('starts a run when a message mentions the agent, carrying the message request’s correlation id', async () => {
    const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
      token: member.token,
      headers: { 'X-Request-ID': 'mention-1' },
      body: { channel_id: channelId, body: '@summarizer what did I miss? (not a mention: mia@summarizer.test)' },
    });
    expect(posted.status).toBe(201);
    const [run] = await gateway.database.sql<{ status: string; correlation_id: string; channel_id: string; started_by: string }[]>`
      select status::text, correlation_id, channel_id, started_by from public.agent_runs where trigger_message_id = ${posted.body.id}`;
    expect(run).toEqual({ status: 'queued', correlation_id: 'mention-1', channel_id: channelId, started_by: member.userId });
  });

  it('cancels a run once; a second cancel and a decision on a run not waiting are conflicts', async () => {
    const started = await call<Run>(gateway.app, 'POST', `/api/agents/${agentId}/runs`, { token: member.token, body: {} });
    const byOutsider = await call(gateway.app, 'POST', `/api/agent-runs/${started.body.id}/cancel`, { token: outsider.token });
    expect(byOutsider.status).toBe(404);
    const decided = await call(gateway.app, 'POST', `/api/agent-runs/${started.body.id}/action`, {
      token: member.token,
      body: { approve: true },
    });
    expect(expectErrorShape(decided).code).toBe('agent_run_not_waiting');
    const cancelled = await call<Run>(gateway.app, 'POST', `/api/agent-runs/${started.body.id}/cancel`, { token: member.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const twice = await call(gateway.app, 'POST', `/api/agent-runs/${started.body.id}/cancel`, { token: member.token });
    expect(twice.status).toBe(409);
    expect(expectErrorShape(twice).code).toBe('agent_run_finished');
  });

  it('refuses to start a disabled agent, and a mention of it starts nothing', async () => {
    const disabled = await call<{ enabled: boolean }>(gateway.app, 'PATCH', `/api/agents/${agentId}`, {
      token: owner.token,
      body: { enabled: false },
    });
    expect(disabled.body.enabled).toBe(false);
    const refused = await call(gateway.app, 'POST', `/api/agents/${agentId}/runs`, { token: member.token, body: {} });
    expect(refused.status).toBe(409);
    expect(expectErrorShape(refused).code).toBe('agent_disabled');
    const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
      token: member.token,
      body: { channel_id: channelId, body: '@summarizer are you there?' },
    });
    const runs = await gateway.database.sql`select 1 from public.agent_runs where trigger_message_id = ${posted.body.id}`;
    expect(runs).toHaveLength(0);
    await call(gateway.app, 'PATCH', `/api/agents/${agentId}`, { token: owner.token, body: { enabled: true } });
  });
});

describe('keys and teams', () => {
  it('keeps an agent key inside its team: another team’s key sees neither agents nor runs', async () => {
    const foreignKey = await createAccessKey(gateway.app, outsider.token, otherTeamId);
    const [run] = await gateway.database.sql<{ id: string }[]>`select id from public.agent_runs where team_id = ${teamId} limit 1`;
    const seen = await call(gateway.app, 'GET', `/api/agent-runs/${run!.id}`, { token: foreignKey.key });
    expect(seen.status).toBe(404);
    const started = await call(gateway.app, 'POST', `/api/agents/${agentId}/runs`, { token: foreignKey.key, body: {} });
    expect(started.status).toBe(404);
    const listed = await call(gateway.app, 'GET', `/api/agents?team_id=${teamId}`, { token: foreignKey.key });
    expect(listed.status).toBe(404);
  });

  it('keeps an agent key inside its bundle: it cannot register or reconfigure agents', async () => {
    const ownKey = await createAccessKey(gateway.app, owner.token, teamId);
    const register = await call(gateway.app, 'POST', '/api/agents', {
      token: ownKey.key,
      body: { team_id: teamId, name: 'shadow', kind: 'summarizer' },
    });
    expect(register.status).toBe(403);
    const disable = await call(gateway.app, 'PATCH', `/api/agents/${agentId}`, { token: ownKey.key, body: { enabled: false } });
    expect(disable.status).toBe(403);
  });
});
