// The Agent Orchestrator on real Postgres, NATS JetStream (fresh stream), the real outbox relay and the real
// gateway over HTTP: a mention runs the summarizer end to end with the correlation id flowing through; two
// workers split runs and none runs twice; approval; cancel and expiry; a SIGKILLed worker's run is taken over
// and completes exactly once; a takeover that cannot know whether the reply went out fails with a reason.
import { serve, type ServerType } from '@hono/node-server';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/_shared/log.ts';
import { connectWorkerDatabase, type Sql } from '../../workers/lib/postgres.ts';
import type { AgentKind } from '../../workers/agents/agent-kind.ts';
import { AgentOrchestrator } from '../../workers/agents/orchestrator.ts';
import { summarizer } from '../../workers/agents/kinds/summarizer.ts';
import { testServices } from '../harness/services.ts';
import {
  connectJetStream,
  databaseSettings,
  deleteStreams,
  freshStreams,
  provision,
  startRelay,
  waitFor,
  type InProcessRelay,
} from '../relay/support/relay-env.ts';
import { call, devLogin, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

const LEASE_SECONDS = 2;
const CONSUMER = 'agents';

let gateway: TestGateway;
let server: ServerType;
let gatewayUrl: string;
let streams: ReturnType<typeof freshStreams>;
let nats: { nc: NatsConnection; jsm: JetStreamManager };
let relay: InProcessRelay;
let workerSql: Sql;
let owner: Session;
let member: Session;
let teamId: string;
let channelId: string;
let agent: { id: string; principal_id: string };
const orchestrators: AgentOrchestrator[] = [];

interface RunRow {
  status: string;
  attempts: number;
  error: { code: string } | null;
  output: { message_id?: string; reply?: string } | null;
  run_key_id: string | null;
}

const runRow = async (runId: string): Promise<RunRow> =>
  (
    await gateway.database.sql<
      RunRow[]
    >`select status::text, attempts, error, output, run_key_id from public.agent_runs where id = ${runId}`
  )[0]!;
const waitForStatus = (runId: string, status: string, timeoutMs = 30_000) =>
  waitFor(`run ${runId} ${status}`, async () => (await runRow(runId)).status === status, timeoutMs, 100);

function startOrchestrator(workerId: string, kinds?: Record<string, AgentKind>): AgentOrchestrator {
  const orchestrator = new AgentOrchestrator({
    nc: nats.nc,
    jsm: nats.jsm,
    sql: workerSql,
    stream: streams.NATS_STREAM_EVENTS,
    subjectPrefix: streams.NATS_SUBJECT_PREFIX,
    consumerName: CONSUMER,
    workerId,
    gatewayUrl,
    environment: 'test',
    leaseSeconds: LEASE_SECONDS,
    teamLimit: 10,
    maxAttempts: 3,
    sweepIntervalMs: 500,
    logger: createLogger({ level: 'error' }),
    kinds,
  });
  orchestrators.push(orchestrator);
  return orchestrator;
}

async function stopOrchestrators(): Promise<void> {
  await Promise.all(orchestrators.splice(0).map((o) => o.stop()));
}

async function startRun(agentId: string, body: Record<string, unknown> = { channel_id: channelId }): Promise<string> {
  const answer = await call<{ id: string }>(gateway.app, 'POST', `/api/agents/${agentId}/runs`, { token: member.token, body });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

async function registerAgent(
  name: string,
  config?: Record<string, unknown>,
  timeout?: number,
): Promise<{ id: string; principal_id: string }> {
  const answer = await call<{ id: string; principal_id: string }>(gateway.app, 'POST', '/api/agents', {
    token: owner.token,
    body: {
      team_id: teamId,
      name,
      kind: 'summarizer',
      ...(config ? { config } : {}),
      ...(timeout ? { run_timeout_seconds: timeout } : {}),
    },
  });
  expect(answer.status).toBe(201);
  return answer.body;
}

const repliesBy = (principalId: string) =>
  gateway.database.sql<
    { id: string; body: string }[]
  >`select id, body from public.messages where author_id = ${principalId} order by created_at`;

beforeAll(async () => {
  gateway = await startTestGateway('agents_worker', { seed: false });
  server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: gateway.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
  });
  gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  streams = freshStreams();
  nats = await connectJetStream(testServices.natsUrl);
  await provision(nats.jsm, streams);
  relay = await startRelay(databaseSettings(gateway.database.url), testServices.natsUrl, streams);
  workerSql = connectWorkerDatabase(databaseSettings(gateway.database.url), { applicationName: 'agents-test', max: 6 });

  [owner, member] = await Promise.all([devLogin(gateway.app, 'olga@runs.test', 'Olga'), devLogin(gateway.app, 'mia@runs.test', 'Mia')]);
  const team = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Runs Co-op' } });
  teamId = team.body.id;
  await gateway.database.sql`insert into public.team_members (team_id, user_id, role) values (${teamId}, ${member.userId}, 'member')`;
  const channel = await call<{ id: string }>(gateway.app, 'POST', '/api/channels', {
    token: owner.token,
    body: { team_id: teamId, name: 'energy' },
  });
  channelId = channel.body.id;
  for (const body of [
    'The solar panels on the school roof produce more energy than expected this month.',
    'We should share the surplus energy with the bakery next door.',
    'Reminder: the energy cooperative meets on Thursday to decide on the surplus.',
    'Lunch is at noon.',
  ]) {
    await call(gateway.app, 'POST', '/api/messages', { token: owner.token, body: { channel_id: channelId, body } });
  }
  agent = await registerAgent('summarizer');
}, 120_000);

afterAll(async () => {
  await stopOrchestrators();
  await relay?.stop();
  await workerSql?.end({ timeout: 5 });
  if (nats) {
    await deleteStreams(nats.jsm, streams);
    await nats.nc.close();
  }
  server?.close();
  await gateway?.close();
});

describe('before any worker runs', () => {
  it('a takeover that cannot know whether the reply went out fails with reply_state_unknown, posting nothing', async () => {
    const runId = await startRun(agent.id);
    // a worker that claimed the run, started posting and vanished (no settle, no finish)
    const [claim] = await workerSql`select app.claim_agent_run(${runId}, 'ghost', 1, 10, 3) as result`;
    expect(claim!.result).toBe('claimed');
    await workerSql`select app.record_agent_run_step(${runId}, 'ghost', 'post_reply', 'started', '{}'::jsonb)`;
    // and a run whose deadline passed while no worker ran
    const overdue = await startRun(agent.id);
    await gateway.database.sql`update public.agent_runs set expires_at = now() - interval '1 second' where id = ${overdue}`;

    startOrchestrator('worker-a');
    await orchestrators[0]!.start();
    await waitForStatus(runId, 'failed');
    expect(await runRow(runId)).toMatchObject({ attempts: 2, error: { code: 'reply_state_unknown' } });
    await waitForStatus(overdue, 'expired');
    expect(await repliesBy(agent.principal_id)).toEqual([]);
  });
});

describe('with two workers', () => {
  beforeAll(async () => {
    startOrchestrator('worker-b');
    await orchestrators[1]!.start();
  });

  it('runs the summarizer when a message mentions it: the reply is in the channel, by the agent, with the correlation id', async () => {
    const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
      token: member.token,
      headers: { 'X-Request-ID': 'mention-e2e' },
      body: { channel_id: channelId, body: '@summarizer what about the energy surplus?' },
    });
    const [found] = await gateway.database.sql<
      { id: string }[]
    >`select id from public.agent_runs where trigger_message_id = ${posted.body.id}`;
    const runId = found!.id;
    await waitForStatus(runId, 'completed');
    const run = await runRow(runId);
    expect(run.attempts).toBe(1);
    const [reply] = await gateway.database.sql<{ author_id: string; body: string; channel_id: string }[]>`
      select author_id, body, channel_id from public.messages where id = ${run.output!.message_id!}`;
    expect(reply).toMatchObject({ author_id: agent.principal_id, channel_id: channelId });
    expect(reply!.body).toMatch(/^Summary of the last \d+ messages:/);
    expect(reply!.body).toContain('surplus energy');
    const [event] = await gateway.database.sql`
      select correlation_id from public.outbox_events where event_type = 'message.created' and aggregate_id = ${run.output!.message_id!}`;
    expect(event!.correlation_id).toBe('mention-e2e');
    const steps = await call<{ steps: { kind: string; status: string }[] }>(gateway.app, 'GET', `/api/agent-runs/${runId}`, {
      token: member.token,
    });
    expect(steps.body.steps.map((s) => `${s.kind}:${s.status}`)).toEqual([
      'read_messages:succeeded',
      'summarize:succeeded',
      'post_reply:succeeded',
    ]);
    const [key] = await gateway.database.sql`select revoked_at from public.access_keys where id = ${run.run_key_id}`;
    expect(key!.revoked_at).not.toBeNull();
  });

  it('with two workers consuming, executes each of 8 runs exactly once', async () => {
    const before = (await repliesBy(agent.principal_id)).length;
    const runIds = await Promise.all(Array.from({ length: 8 }, () => startRun(agent.id)));
    for (const runId of runIds) await waitForStatus(runId, 'completed');
    const rows = await gateway.database.sql<{ attempts: number; posts: number }[]>`
      select r.attempts, (select count(*)::int from public.agent_run_steps s where s.run_id = r.id and s.kind = 'post_reply') as posts
      from public.agent_runs r where r.id = any(${runIds}::uuid[])`;
    expect(rows.every((row) => row.attempts === 1 && row.posts === 1)).toBe(true);
    expect((await repliesBy(agent.principal_id)).length - before).toBe(8);
  });

  it('waits for approval (requires_action), then posts on approve and not on reject', async () => {
    const careful = await registerAgent('careful', { require_approval: true });
    const approved = await startRun(careful.id);
    const rejected = await startRun(careful.id);
    await waitForStatus(approved, 'requires_action');
    await waitForStatus(rejected, 'requires_action');
    const pending = await call<{ pending_action: { tool: string; body: string } }>(gateway.app, 'GET', `/api/agent-runs/${approved}`, {
      token: member.token,
    });
    expect(pending.body.pending_action.tool).toBe('post_reply');
    expect(
      (await call(gateway.app, 'POST', `/api/agent-runs/${approved}/action`, { token: member.token, body: { approve: true } })).status,
    ).toBe(200);
    expect(
      (await call(gateway.app, 'POST', `/api/agent-runs/${rejected}/action`, { token: member.token, body: { approve: false, note: 'no' } }))
        .status,
    ).toBe(200);
    await waitForStatus(approved, 'completed');
    await waitForStatus(rejected, 'completed');
    const replies = await repliesBy(careful.principal_id);
    expect(replies.map((r) => r.body)).toEqual([pending.body.pending_action.body]);
    expect((await runRow(rejected)).output).toMatchObject({ posted: false });
  });
});

describe('cancel and crashes', () => {
  it('stops a run in flight when it is cancelled', async () => {
    await stopOrchestrators();
    let entered = false;
    const stalling: AgentKind = {
      async execute(_run, _gateway, steps, signal) {
        await steps.record('note', 'succeeded', { stalling: true });
        entered = true;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return { status: 'completed', output: { should: 'never be stored' }, usage: {} };
      },
    };
    await startOrchestrator('worker-stall', { summarizer: stalling }).start();
    const runId = await startRun(agent.id);
    await waitFor('the run to stall', () => entered, 20_000);
    const cancelled = await call<{ status: string }>(gateway.app, 'POST', `/api/agent-runs/${runId}/cancel`, { token: member.token });
    expect(cancelled.body.status).toBe('cancelled');
    // the worker notices at its next lease renewal and lets go without settling
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000));
    expect(await runRow(runId)).toMatchObject({ status: 'cancelled', output: null });
    await stopOrchestrators();
  });

  it('takes over the run of a SIGKILLed worker process and completes it exactly once', async () => {
    const database = databaseSettings(gateway.database.url);
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/agents/main.ts'], {
      env: {
        PATH: process.env.PATH,
        ENV_FILE: '/nonexistent/.env',
        APP_ENV: 'test',
        LOG_LEVEL: 'info',
        DB_HOST: database.DB_HOST,
        DB_PORT: String(database.DB_PORT),
        DB_NAME: database.DB_NAME,
        DB_USER: database.DB_USER,
        NATS_URL: testServices.natsUrl,
        NATS_STREAM_EVENTS: streams.NATS_STREAM_EVENTS,
        NATS_SUBJECT_PREFIX: streams.NATS_SUBJECT_PREFIX,
        NATS_CONSUMER_AGENTS: CONSUMER,
        AGENT_GATEWAY_URL: gatewayUrl,
        AGENT_LEASE_SECONDS: String(LEASE_SECONDS),
        METRICS_PORT: String(20_000 + Math.floor(Math.random() * 40_000)),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const before = (await repliesBy(agent.principal_id)).length;
    // hold the step log so the worker process blocks mid-run, after its claim
    const blocker = await gateway.database.sql.reserve();
    await blocker`begin`;
    await blocker`lock table public.agent_run_steps in exclusive mode`;
    const runId = await startRun(agent.id);
    try {
      await waitFor('the worker process to claim the run', async () => (await runRow(runId)).status === 'in_progress', 60_000, 100);
      child.kill('SIGKILL');
      await exited;
    } finally {
      await blocker`rollback`;
      blocker.release();
    }
    await startOrchestrator('worker-c').start();
    await waitForStatus(runId, 'completed', 60_000);
    expect((await runRow(runId)).attempts).toBe(2);
    const [counted] = await gateway.database.sql<{ posts: number }[]>`
      select count(*)::int as posts from public.agent_run_steps where run_id = ${runId} and kind = 'post_reply'`;
    const posts = counted!.posts;
    expect(posts).toBe(1);
    expect((await repliesBy(agent.principal_id)).length - before).toBe(1);
  }, 120_000);
});

describe('the built-in summarizer', () => {
  it('is deterministic: the same messages give the same reply', async () => {
    const { summarizeExtractively } = await import('../../workers/agents/kinds/extractive-summary.ts');
    const messages = ['The pump broke. We need a new pump for the well.', 'Who can fix the pump?', 'Lunch is at noon.'];
    expect(summarizeExtractively(messages, 2)).toEqual(summarizeExtractively([...messages], 2));
    expect(summarizeExtractively(messages, 2).join(' ')).toContain('pump');
    expect(summarizer).toBeDefined();
  });
});
