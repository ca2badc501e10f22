// The LLM agent kind end to end on real Postgres, NATS, the relay and the gateway over HTTP, against a
// chat-completions server started by this test: real HTTP on a local port, speaking the OpenAI-compatible
// protocol with scripted answers (tool_calls, content, usage, errors, a hang). No model, no network beyond it.
import { serve, type ServerType } from '@hono/node-server';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/_shared/config.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { WORKER_VARIABLES } from '../../workers/lib/worker-config.ts';
import { createLlmAgent } from '../../workers/agents/kinds/llm-agent.ts';
import { createAgentMetrics } from '../../workers/agents/agent-metrics.ts';
import { AgentOrchestrator } from '../../workers/agents/orchestrator.ts';
import { connectWorkerDatabase, type Sql } from '../../workers/lib/postgres.ts';
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

const API_KEY = 'test-llm-key-not-a-secret';
const MODEL = 'scripted-model-1';
const TIMEOUT_MS = 800;

interface ScriptedAnswer {
  status?: number;
  body?: unknown;
  /** Sent as it is instead of the JSON of body (to answer with something that is not JSON). */
  raw?: string;
  /** Answer only after this long (longer than TIMEOUT_MS: the client gives up). */
  delayMs?: number;
}
interface SeenRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: {
    model: string;
    messages: { role: string; content: string | null; tool_call_id?: string }[];
    tools: { function: { name: string } }[];
  };
}

/** A chat-completions endpoint that answers each request with the next scripted answer. */
class ScriptedChatServer {
  readonly seen: SeenRequest[] = [];
  private script: ScriptedAnswer[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.seen.push({ path: request.url ?? '', headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        const answer = this.script.shift() ?? { status: 500, body: { error: { message: 'the test script ran out of answers' } } };
        const reply = () => {
          if (response.destroyed) return;
          response.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
          response.end(answer.raw ?? JSON.stringify(answer.body ?? {}));
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs);
        else reply();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  answerWith(...answers: ScriptedAnswer[]): void {
    this.script = answers;
    this.seen.length = 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const completion = (message: Record<string, unknown>, usage = { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 }) => ({
  body: {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    model: MODEL,
    choices: [
      { index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: message.tool_calls ? 'tool_calls' : 'stop' },
    ],
    usage,
  },
});
const toolCall = (id: string, name: string, args: Record<string, unknown>) => ({
  id,
  type: 'function',
  function: { name, arguments: JSON.stringify(args) },
});

let gateway: TestGateway;
let server: ServerType;
let streams: ReturnType<typeof freshStreams>;
let nats: { nc: NatsConnection; jsm: JetStreamManager };
let relay: InProcessRelay;
let workerSql: Sql;
let orchestrator: AgentOrchestrator;
const chat = new ScriptedChatServer();
const metrics = createAgentMetrics();
let owner: Session;
let member: Session;
let channelId: string;
let agent: { id: string; principal_id: string };

interface RunRow {
  status: string;
  error: { code: string; message: string } | null;
  output: { message_id?: string; reply?: string } | null;
  usage: Record<string, number>;
  pending_action: { tool?: string; body?: string } | null;
}
const runRow = async (runId: string): Promise<RunRow> =>
  (
    await gateway.database.sql<
      RunRow[]
    >`select status::text, error, output, usage, pending_action from public.agent_runs where id = ${runId}`
  )[0]!;
const waitForStatus = (runId: string, status: string) =>
  waitFor(`run ${runId} ${status}`, async () => (await runRow(runId)).status === status, 30_000, 100);
const stepsOf = (runId: string) =>
  gateway.database.sql<{ kind: string; status: string; detail: Record<string, unknown> }[]>`
    select kind, status, detail from public.agent_run_steps where run_id = ${runId} order by id`;

async function mention(body: string): Promise<string> {
  const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
    token: member.token,
    body: { channel_id: channelId, body },
  });
  expect(posted.status).toBe(201);
  const [run] = await gateway.database.sql<{ id: string }[]>`select id from public.agent_runs where trigger_message_id = ${posted.body.id}`;
  expect(run, 'the mention started a run').toBeDefined();
  return run!.id;
}

beforeAll(async () => {
  await chat.start();
  gateway = await startTestGateway('agents_llm', { seed: false });
  server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: gateway.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
  });
  streams = freshStreams();
  nats = await connectJetStream(testServices.natsUrl);
  await provision(nats.jsm, streams);
  relay = await startRelay(databaseSettings(gateway.database.url), testServices.natsUrl, streams);
  workerSql = connectWorkerDatabase(databaseSettings(gateway.database.url), { applicationName: 'agents-llm-test', max: 4 });
  [owner, member] = await Promise.all([devLogin(gateway.app, 'lena@llm.test', 'Lena'), devLogin(gateway.app, 'max@llm.test', 'Max')]);
  const team = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Model Co-op' } });
  await gateway.database.sql`insert into public.team_members (team_id, user_id, role) values (${team.body.id}, ${member.userId}, 'member')`;
  const channel = await call<{ id: string }>(gateway.app, 'POST', '/api/channels', {
    token: owner.token,
    body: { team_id: team.body.id, name: 'garden' },
  });
  channelId = channel.body.id;
  await call(gateway.app, 'POST', '/api/messages', {
    token: owner.token,
    body: { channel_id: channelId, body: 'The garden group meets on Saturday at nine to plant the tomatoes.' },
  });
  const registered = await call<{ id: string; principal_id: string }>(gateway.app, 'POST', '/api/agents', {
    token: owner.token,
    body: { team_id: team.body.id, name: 'assistant', kind: 'llm' },
  });
  expect(registered.status).toBe(201);
  agent = registered.body;
  orchestrator = new AgentOrchestrator({
    nc: nats.nc,
    jsm: nats.jsm,
    sql: workerSql,
    stream: streams.NATS_STREAM_EVENTS,
    subjectPrefix: streams.NATS_SUBJECT_PREFIX,
    consumerName: 'agents',
    workerId: 'llm-worker',
    gatewayUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    environment: 'test',
    leaseSeconds: 5,
    teamLimit: 10,
    maxAttempts: 3,
    logger: createLogger({ level: 'error' }),
    metrics,
    kinds: { llm: createLlmAgent({ baseUrl: chat.url, apiKey: API_KEY, model: MODEL, timeoutMs: TIMEOUT_MS }) },
  });
  await orchestrator.start();
}, 120_000);

afterAll(async () => {
  await orchestrator?.stop();
  await relay?.stop();
  await workerSql?.end({ timeout: 5 });
  if (nats) {
    await deleteStreams(nats.jsm, streams);
    await nats.nc.close();
  }
  server?.close();
  await gateway?.close();
  await chat.stop();
});

describe('the llm agent', () => {
  it('answers a mention: reads the channel with a tool, replies as itself, and records the tokens it used', async () => {
    chat.answerWith(
      completion(
        { tool_calls: [toolCall('call_read', 'read_recent_messages', { limit: 5 })] },
        { prompt_tokens: 120, completion_tokens: 12, total_tokens: 132 },
      ),
      completion(
        { content: 'The garden group meets on Saturday at nine.' },
        { prompt_tokens: 200, completion_tokens: 15, total_tokens: 215 },
      ),
    );
    const runId = await mention('@assistant when does the garden group meet?');
    await waitForStatus(runId, 'completed');

    const run = await runRow(runId);
    expect(run.usage).toEqual({ prompt_tokens: 320, completion_tokens: 27, total_tokens: 347, llm_calls: 2 });
    const [reply] = await gateway.database.sql<{ author_id: string; body: string }[]>`
      select author_id, body from public.messages where id = ${run.output!.message_id!}`;
    expect(reply).toEqual({ author_id: agent.principal_id, body: 'The garden group meets on Saturday at nine.' });

    // what the endpoint received: the protocol, the key, the model, the tools, the question and the tool's result
    expect(chat.seen).toHaveLength(2);
    expect(chat.seen[0]!.path).toBe('/v1/chat/completions');
    expect(chat.seen[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(chat.seen[0]!.body.model).toBe(MODEL);
    expect(chat.seen[0]!.body.tools.map((t) => t.function.name)).toEqual(['read_recent_messages', 'send_channel_message']);
    expect(chat.seen[0]!.body.messages.at(-1)).toMatchObject({ role: 'user', content: '@assistant when does the garden group meet?' });
    const toolResult = chat.seen[1]!.body.messages.at(-1)!;
    expect(toolResult).toMatchObject({ role: 'tool', tool_call_id: 'call_read' });
    expect(toolResult.content).toContain('plant the tomatoes');

    expect((await stepsOf(runId)).map((s) => `${s.kind}:${s.status}`)).toEqual([
      'llm_call:succeeded',
      'tool_call:succeeded',
      'llm_call:succeeded',
      'post_reply:succeeded',
    ]);
  });

  it('asks a person before sending a message of its own (requires_action), sends it once approved, then answers', async () => {
    chat.answerWith(
      completion({ tool_calls: [toolCall('call_send', 'send_channel_message', { body: 'Reminder: planting on Saturday at nine!' })] }),
    );
    const runId = await mention('@assistant please remind everyone about Saturday');
    await waitForStatus(runId, 'requires_action');
    expect((await runRow(runId)).pending_action).toMatchObject({
      tool: 'send_channel_message',
      body: 'Reminder: planting on Saturday at nine!',
    });
    expect(chat.seen).toHaveLength(1);

    chat.answerWith(completion({ content: 'Done: I reminded everyone.' }));
    const decided = await call(gateway.app, 'POST', `/api/agent-runs/${runId}/action`, { token: member.token, body: { approve: true } });
    expect(decided.status).toBe(200);
    await waitForStatus(runId, 'completed');

    const posted = await gateway.database.sql<{ body: string }[]>`
      select body from public.messages where author_id = ${agent.principal_id} and channel_id = ${channelId} order by created_at desc limit 2`;
    expect(posted.map((m) => m.body)).toEqual(['Done: I reminded everyone.', 'Reminder: planting on Saturday at nine!']);
    // the model heard that its message went out, after the tool call it made
    const resumed = chat.seen[0]!.body.messages;
    expect(resumed.at(-2)).toMatchObject({ role: 'assistant' });
    expect(resumed.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_send' });
    expect(JSON.parse(resumed.at(-1)!.content!)).toMatchObject({ sent: true });
    expect((await runRow(runId)).usage).toMatchObject({ total_tokens: 220, llm_calls: 2 });
  });

  it('sends nothing when the person rejects the message, and tells the model so', async () => {
    chat.answerWith(completion({ tool_calls: [toolCall('call_spam', 'send_channel_message', { body: 'BUY TOMATOES NOW' })] }));
    const runId = await mention('@assistant advertise something');
    await waitForStatus(runId, 'requires_action');
    chat.answerWith(completion({ content: 'Understood, I will not post it.' }));
    expect(
      (await call(gateway.app, 'POST', `/api/agent-runs/${runId}/action`, { token: member.token, body: { approve: false } })).status,
    ).toBe(200);
    await waitForStatus(runId, 'completed');
    const [spam] = await gateway.database.sql`select 1 from public.messages where body = 'BUY TOMATOES NOW'`;
    expect(spam).toBeUndefined();
    expect(JSON.parse(chat.seen[0]!.body.messages.at(-1)!.content!)).toMatchObject({ sent: false });
  });

  it.each([
    {
      what: '429',
      answer: { status: 429, body: { error: { message: 'Rate limit reached for requests' } } },
      code: 'llm_rate_limit',
      says: 'rate limiting',
    },
    {
      what: '401',
      answer: { status: 401, body: { error: { message: 'Incorrect API key provided' } } },
      code: 'llm_auth',
      says: 'LLM_API_KEY',
    },
    {
      what: '400',
      answer: { status: 400, body: { error: { message: 'The model `nope` does not exist' } } },
      code: 'llm_bad_request',
      says: 'does not exist',
    },
    { what: '503', answer: { status: 503, body: { error: { message: 'overloaded' } } }, code: 'llm_server', says: 'LLM_BASE_URL' },
    {
      what: '200 with a body that is not JSON',
      answer: { status: 200, raw: '<html>proxy error</html>' },
      code: 'llm_server',
      says: 'not JSON',
    },
    { what: 'nothing within LLM_TIMEOUT_MS', answer: { delayMs: TIMEOUT_MS * 3, body: {} }, code: 'llm_timeout', says: 'LLM_TIMEOUT_MS' },
  ])('fails the run with $code when the provider answers $what', async ({ answer, code, says }) => {
    const before = (await metrics.toolErrors.get()).values.find((v) => v.labels.code === code)?.value ?? 0;
    chat.answerWith(answer);
    const runId = await mention('@assistant hello?');
    await waitForStatus(runId, 'failed');
    const run = await runRow(runId);
    expect(run.error!.code).toBe(code);
    expect(run.error!.message).toContain(says);
    expect(run.error!.message).not.toContain(API_KEY);
    expect((await stepsOf(runId)).at(-1)).toMatchObject({ kind: 'llm_call', status: 'failed', detail: { code } });
    const after = (await metrics.toolErrors.get()).values.find((v) => v.labels.code === code)?.value ?? 0;
    expect(after - before).toBe(1);
  });
});

describe('the llm settings of an agent worker', () => {
  const worker = { APP_ENV: 'test', DB_NAME: 'x' };
  it('needs LLM_MODEL with LLM_BASE_URL, and reads LLM_API_KEY from a mounted file', () => {
    expect(() => loadConfig({ ...worker, LLM_BASE_URL: 'http://127.0.0.1:11434/v1' }, { uses: WORKER_VARIABLES.agents })).toThrow(
      /LLM_MODEL.*LLM_BASE_URL/s,
    );
    expect(() => loadConfig({ ...worker, LLM_BASE_URL: 'not a url', LLM_MODEL: 'm' }, { uses: WORKER_VARIABLES.agents })).toThrow(
      /LLM_BASE_URL/,
    );
    const config = loadConfig(
      { ...worker, LLM_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_MODEL: 'm', LLM_API_KEY_FILE: '/run/secrets/llm_api_key' },
      {
        uses: WORKER_VARIABLES.agents,
        readSecretFile: (file) => {
          if (file !== '/run/secrets/llm_api_key') throw new Error(`no file ${file}`);
          return 'from-the-file\n';
        },
      },
    );
    expect(config.LLM_API_KEY).toBe('from-the-file');
    expect(config.LLM_TIMEOUT_MS).toBe(60_000);
  });
});
