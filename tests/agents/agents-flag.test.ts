// The `agents` feature flag gates starting runs, through the real gateway on real Postgres: with the flag off
// for a team, starting a run answers 403 agents_disabled and a mention (in a message or a followup) starts
// nothing while the message itself is posted; switched on for the team, both start runs again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedIds } from '../harness/database.ts';
import { call, devLogin, expectErrorShape, startTestGateway, type TestGateway } from '../api/helpers.ts';

let gateway: TestGateway;
let ops: string; // platform admin (seed): changes flags
let alice: string; // owner of Demo Team
let bob: string; // member of Demo Team
let agentId: string;
const SOMEONE_ELSES_TEAM = '00000000-0000-4000-8000-00000000f1a9';

/** On for the listed teams only (and nowhere else, whatever the environment). */
const agentsFor = (teams: string[]) => ({ kind: 'boolean', enabled: true, default_value: false, rules: [{ teams, value: true }] });

async function putAgentsFlag(flag: ReturnType<typeof agentsFor>, expectBobSees: boolean): Promise<void> {
  const put = await call(gateway.app, 'PUT', '/api/flags/definitions/agents', { token: ops, body: { flag } });
  expect(put.status).toBe(200);
  // the gateway's store follows the change by NOTIFY: wait until Bob's evaluation says so
  await waitUntil(async () => {
    const mine = await call<{ flags: Record<string, { value: unknown }> }>(gateway.app, 'GET', '/api/flags', { token: bob });
    return mine.body.flags.agents?.value === expectBobSees;
  }, 5000);
}

const runsOf = (id: string) =>
  gateway.database.sql<{ status: string; trigger_message_id: string | null }[]>`
    select status, trigger_message_id from public.agent_runs where agent_id = ${id} order by created_at`;

beforeAll(async () => {
  gateway = await startTestGateway('agents_flag');
  [ops, alice, bob] = (
    await Promise.all([
      devLogin(gateway.app, 'ops@demo.local'),
      devLogin(gateway.app, 'alice@demo.local'),
      devLogin(gateway.app, 'bob@demo.local'),
    ])
  ).map((session) => session.token) as [string, string, string];
  const agent = await call<{ id: string }>(gateway.app, 'POST', '/api/agents', {
    token: alice,
    body: { team_id: seedIds.demoTeam, name: 'summarizer', kind: 'summarizer' },
  });
  expect(agent.status).toBe(201);
  agentId = agent.body.id;
});
afterAll(async () => gateway?.close());

describe('the agents flag', () => {
  it('is on in test: a run starts from the API and from a mention', async () => {
    const started = await call(gateway.app, 'POST', `/api/agents/${agentId}/runs`, {
      token: bob,
      body: { channel_id: seedIds.generalChannel },
    });
    expect(started.status).toBe(201);
    const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
      token: bob,
      body: { channel_id: seedIds.generalChannel, body: '@summarizer catch me up' },
    });
    expect(posted.status).toBe(201);
    expect((await runsOf(agentId)).map((run) => run.trigger_message_id)).toEqual([null, posted.body.id]);
  });

  it('off for the team: starting a run answers 403 agents_disabled, a mention posts the message and starts nothing', async () => {
    await putAgentsFlag(agentsFor([SOMEONE_ELSES_TEAM]), false);
    const before = (await runsOf(agentId)).length;

    const refused = await call(gateway.app, 'POST', `/api/agents/${agentId}/runs`, {
      token: bob,
      body: { channel_id: seedIds.generalChannel },
    });
    expect(refused.status).toBe(403);
    const error = expectErrorShape(refused);
    expect(error.code).toBe('agents_disabled');
    expect(error.message).toContain('feature flag "agents"');

    const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
      token: bob,
      body: { channel_id: seedIds.generalChannel, body: '@summarizer are you there?' },
    });
    expect(posted.status).toBe(201);
    const followup = await call(gateway.app, 'POST', `/api/messages/${posted.body.id}/followups`, {
      token: bob,
      body: { body: 'still nothing, @summarizer?' },
    });
    expect(followup.status).toBe(201);
    expect((await runsOf(agentId)).length).toBe(before);
  });

  it('switched on for the team again: the API and mentions start runs', async () => {
    await putAgentsFlag(agentsFor([seedIds.demoTeam]), true);
    const before = (await runsOf(agentId)).length;
    const started = await call(gateway.app, 'POST', `/api/agents/${agentId}/runs`, { token: bob, body: {} });
    expect(started.status).toBe(201);
    const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
      token: bob,
      body: { channel_id: seedIds.generalChannel, body: 'welcome back @summarizer' },
    });
    expect(posted.status).toBe(201);
    const runs = await runsOf(agentId);
    expect(runs.length).toBe(before + 2);
    expect(runs.at(-1)).toMatchObject({ status: 'queued', trigger_message_id: posted.body.id });
  });
});

async function waitUntil(check: () => Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
