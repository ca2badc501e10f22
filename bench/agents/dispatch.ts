// Benchmark (not a test): agent runs, on a fresh migrated database, real NATS JetStream (a fresh stream) and the
// real outbox relay, all in this process with the gateway (served over HTTP for the workers).
// 1. Start throughput: POST /api/agents/{id}/runs through the gateway (PEP, RLS, the SQL function, the outbox
//    event) against a bare baseline measured in the same run — the same number of transactions, each a plain
//    insert of one row with a jsonb payload — at the same concurrency. Prints both rates and their ratio.
// 2. Dispatch: --runs runs of the built-in summarizer executed by --workers orchestrators; prints runs/s from the
//    first start to the last completion, and dispatch latency (run created → claimed by a worker) p50/p99, and
//    run time (claimed → finished) p50/p99, from the database's own timestamps.
//
//   npm run bench:agents -- [--starts 400] [--runs 100] [--workers 2] [--concurrency 8] [--keep-db]
import { serve, type ServerType } from '@hono/node-server';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createApp } from '../../functions/api/app.ts';
import { createGatewayDeps } from '../../functions/api/gateway.ts';
import { newestMigrationVersion } from '../../functions/api/core/readiness.ts';
import { loadConfig } from '../../functions/_shared/config.ts';
import { createDatabase } from '../../functions/_shared/db.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { databaseUrlFor, testServices, uniqueName } from '../../tests/harness/services.ts';
import {
  connectJetStream,
  databaseSettings,
  deleteStreams,
  freshStreams,
  provision,
  startRelay,
} from '../../tests/relay/support/relay-env.ts';
import { AgentOrchestrator } from '../../workers/agents/orchestrator.ts';
import { connectWorkerDatabase } from '../../workers/lib/postgres.ts';
import { readdirSync } from 'node:fs';

const { values: options } = parseArgs({
  options: {
    starts: { type: 'string', default: '400' },
    runs: { type: 'string', default: '100' },
    workers: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '8' },
    'keep-db': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  console.log('Usage: npm run bench:agents -- [--starts 400] [--runs 100] [--workers 2] [--concurrency 8] [--keep-db]');
  process.exit(0);
}
const starts = Number(options.starts);
const runs = Number(options.runs);
const workers = Number(options.workers);
const concurrency = Number(options.concurrency);
for (const [name, value] of Object.entries({ starts, runs, workers, concurrency })) {
  if (!Number.isInteger(value) || value < 1 || value > 100_000) {
    console.error(`bench:agents: --${name} must be a whole number from 1 to 100000`);
    process.exit(2);
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Runs `total` calls of `one`, `concurrency` at a time; resolves with the rate per second. */
async function rateOf(total: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) await one(i);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

// the harness names databases and streams after the run id vitest sets; this run is its own
process.env.MICRODAO_TEST_RUN_ID ??= `bench${Date.now().toString(36)}`;
const database = uniqueName('mdao_bench_agents');
const admin = postgres(testServices.postgresAdminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database "${database}"`);
const url = databaseUrlFor(database);
console.log(`bench:agents: database ${database}; migrating`);
execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', url], { stdio: ['ignore', 'ignore', 'inherit'] });

const settings = databaseSettings(url);
const config = loadConfig({
  APP_ENV: 'test',
  LOG_LEVEL: 'error',
  DB_HOST: settings.DB_HOST,
  DB_PORT: String(settings.DB_PORT),
  DB_NAME: settings.DB_NAME,
  DB_USER: settings.DB_USER,
  DB_POOL_MAX: String(concurrency + 2),
  NATS_URL: testServices.natsUrl,
  JWT_SECRET: 'bench-only-jwt-secret-0123456789abcdefghijklmnop',
  DEV_LOGIN_ENABLED: 'true',
  WEB_ORIGINS: 'http://127.0.0.1:5173',
});
const sql = createDatabase(config);
const app = createApp(
  createGatewayDeps({
    config,
    sql,
    logger: createLogger({ level: 'error' }),
    rateLimiter: null,
    expectedMigration: newestMigrationVersion(readdirSync('supabase/migrations')),
  }),
);
const server = await new Promise<ServerType>((resolve) => {
  const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
});
const gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const streams = freshStreams();
const nats = await connectJetStream(testServices.natsUrl);
await provision(nats.jsm, streams);
const relay = await startRelay(settings, testServices.natsUrl, streams);
const workerSql = connectWorkerDatabase(settings, { applicationName: 'bench-agents', max: 4 * workers });
const direct = postgres(url, { max: concurrency, onnotice: () => {} });

async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
  const response = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const orchestrators: AgentOrchestrator[] = [];
try {
  const login = await app.request('/api/auth/dev-login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@agents.test' }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const team = await api<{ id: string }>('POST', '/api/teams', token, { name: 'Bench' });
  const channel = await api<{ id: string }>('POST', '/api/channels', token, { team_id: team.id, name: 'bench' });
  for (const body of ['Solar surplus goes to the bakery.', 'The pump needs a new seal before winter.', 'Meeting on Thursday.']) {
    await api('POST', '/api/messages', token, { channel_id: channel.id, body });
  }
  const agent = await api<{ id: string }>('POST', '/api/agents', token, { team_id: team.id, name: 'summarizer', kind: 'summarizer' });

  // 1. start throughput vs a bare insert, same concurrency, same count (no worker runs yet: runs stay queued)
  await direct`create table bench_baseline (id uuid primary key default gen_random_uuid(), input jsonb not null, created_at timestamptz not null default now())`;
  const baseline = await rateOf(starts, async () => {
    await direct`insert into bench_baseline (input) values (${direct.json({ messages: 5 })})`;
  });
  const started = await rateOf(starts, async () => {
    await api('POST', `/api/agents/${agent.id}/runs`, token, { input: { messages: 5 } });
  });
  // those runs have no channel: cancel them so the dispatch figure counts only its own runs
  await direct`update public.agent_runs set status = 'cancelled', error = '{"code": "bench", "message": "bench"}' where status = 'queued'`;

  // 2. dispatch and execution by the workers
  for (let w = 0; w < workers; w += 1) {
    const orchestrator = new AgentOrchestrator({
      nc: nats.nc,
      jsm: nats.jsm,
      sql: workerSql,
      stream: streams.NATS_STREAM_EVENTS,
      subjectPrefix: streams.NATS_SUBJECT_PREFIX,
      consumerName: 'agents',
      workerId: `bench-${w}`,
      gatewayUrl,
      environment: 'test',
      leaseSeconds: 30,
      teamLimit: 8 * workers,
      maxAttempts: 3,
      parallelRuns: 8,
      logger: createLogger({ level: 'error' }),
    });
    await orchestrator.start();
    orchestrators.push(orchestrator);
  }
  // idle dispatch latency: one run at a time, nothing queued ahead of it (relay poll + JetStream + claim)
  const idle: number[] = [];
  for (let i = 0; i < 20; i += 1) {
    const run = await api<{ id: string }>('POST', `/api/agents/${agent.id}/runs`, token, {
      channel_id: channel.id,
      input: { messages: 5 },
    });
    for (;;) {
      const [row] = await direct<{ ms: number | null; done: boolean }[]>`
        select extract(epoch from started_at - created_at) * 1000 as ms, finished_at is not null as done from public.agent_runs where id = ${run.id}`;
      if (row!.done) {
        idle.push(Number(row!.ms));
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  idle.sort((a, b) => a - b);

  const [{ t0 }] = (await direct<{ t0: Date }[]>`select now() as t0`) as unknown as [{ t0: Date }];
  await rateOf(runs, async () => {
    await api('POST', `/api/agents/${agent.id}/runs`, token, { channel_id: channel.id, input: { messages: 5 } });
  });
  const deadline = Date.now() + 600_000;
  for (;;) {
    const [row] = await direct<{ open: number }[]>`
      select count(*)::int as open from public.agent_runs where created_at >= ${t0} and status in ('queued', 'in_progress')`;
    if (row!.open === 0) break;
    if (Date.now() > deadline) throw new Error(`${row!.open} runs still open after 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const rows = await direct<{ status: string; dispatch_ms: number; run_ms: number; created: Date; finished: Date }[]>`
    select status::text, extract(epoch from started_at - created_at) * 1000 as dispatch_ms,
      extract(epoch from finished_at - started_at) * 1000 as run_ms, created_at as created, finished_at as finished
    from public.agent_runs where created_at >= ${t0}`;
  const completed = rows.filter((r) => r.status === 'completed');
  const dispatch = rows.map((r) => Number(r.dispatch_ms)).sort((a, b) => a - b);
  const runTimes = rows.map((r) => Number(r.run_ms)).sort((a, b) => a - b);
  const first = Math.min(...rows.map((r) => r.created.getTime()));
  const last = Math.max(...rows.map((r) => r.finished.getTime()));

  console.log(`\nbench:agents (${new Date().toISOString()}, concurrency ${concurrency}, ${workers} workers × 8 parallel runs)`);
  console.log(
    `  idle dispatch latency (one run at a time, 20 runs)  p50 ${round(percentile(idle, 50))} ms   p99 ${round(percentile(idle, 99))} ms`,
  );
  console.log(`  baseline: bare insert            ${round(baseline)} /s`);
  console.log(`  start run through the gateway    ${round(started)} /s   ratio ${round(started / baseline, 3)}`);
  console.log(
    `  runs executed (built-in agent)   ${completed.length}/${rows.length} completed, ${round(rows.length / ((last - first) / 1000))} runs/s end to end`,
  );
  console.log(
    `  dispatch latency under load (created → claimed)  p50 ${round(percentile(dispatch, 50))} ms   p99 ${round(percentile(dispatch, 99))} ms`,
  );
  console.log(
    `  run time (claimed → finished)         p50 ${round(percentile(runTimes, 50))} ms   p99 ${round(percentile(runTimes, 99))} ms`,
  );
} finally {
  await Promise.all(orchestrators.map((o) => o.stop()));
  await relay.stop();
  await deleteStreams(nats.jsm, streams);
  await nats.nc.close();
  server.close();
  await Promise.all([sql.end({ timeout: 5 }), workerSql.end({ timeout: 5 }), direct.end({ timeout: 5 })]);
  if (options['keep-db']) console.log(`bench:agents: kept database ${database}`);
  else await admin.unsafe(`drop database if exists "${database}" with (force)`);
  await admin.end();
}
