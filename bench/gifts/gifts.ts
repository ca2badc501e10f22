// Benchmark (not a test): gifts from request to delivered. Senders send gifts the way the gateway does — one
// transaction per gift with the member's claims and role `authenticated` calling app.send_gift (capability,
// membership, available-credits check under the sender's lock, the gifts row and its gift.sent outbox event) —
// while the outbox relay and the gift-fabric consumer run as real processes on real NATS and apply each gift to
// the ledger (gift.delivered). Throughput: a burst of gifts from every sender at once, delivered per second (first
// sent → last delivered). Latency: gifts then paced at half that rate (so nothing queues), each one's sent →
// delivered in database time (created_at → finished_at), p50/p99. The baseline, measured
// in the same run and database at the same concurrency: a bare ledger insert, the same balanced two-entry
// transaction written directly (no checks, no outbox, no NATS). Results go to bench/results/gifts.json.
//
//   npm run bench:gifts -- [--gifts 2000] [--concurrency 8] [--keep-db]
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { streamDefinitions } from '../../functions/_shared/events/streams.ts';
import { ensureStreams } from '../../workers/lib/streams.ts';
import { recordFigures } from '../results.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const USAGE = `Usage: npm run bench:gifts -- [--gifts 2000] [--concurrency 8] [--keep-db]
Environment: TEST_PG_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres), TEST_NATS_URL (default nats://127.0.0.1:4222).`;
const { values: options } = parseArgs({
  options: {
    gifts: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    'keep-db': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const gifts = Number(options.gifts);
const concurrency = Number(options.concurrency);
for (const [name, value, max] of [
  ['--gifts', gifts, 1_000_000],
  ['--concurrency', concurrency, 64],
] as const) {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    console.error(`bench:gifts: ${name} must be a whole number from 1 to ${max}\n${USAGE}`);
    process.exit(2);
  }
}

const MEMBERS = 64;
const TEAM = 'bbbbbbbb-0000-4000-8000-000000000000';
const adminUrl = new URL(process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const run = Date.now().toString(36);
const database = `mdao_bench_gifts_${run}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
const streams = {
  APP_ENV: 'test' as const,
  NATS_STREAM_EVENTS: `BENCH_GIFTS_${run.toUpperCase()}`,
  NATS_SUBJECT_PREFIX: `bench_gifts_${run}`,
};
const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
const memberId = (i: number) => `a0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const children: ChildProcess[] = [];

function startWorker(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'test',
      LOG_LEVEL: 'error',
      DB_HOST: adminUrl.hostname,
      DB_PORT: adminUrl.port || '5432',
      DB_NAME: database,
      DB_USER: decodeURIComponent(adminUrl.username) || 'postgres',
      DB_PASSWORD: decodeURIComponent(adminUrl.password),
      NATS_URL: natsUrl,
      NATS_STREAM_EVENTS: streams.NATS_STREAM_EVENTS,
      NATS_SUBJECT_PREFIX: streams.NATS_SUBJECT_PREFIX,
      METRICS_PORT: String(20_000 + Math.floor(Math.random() * 40_000)),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

/** Runs `count` jobs over `concurrency` workers; returns each job's client-side duration in ms and the wall time. */
async function runJobs(count: number, job: (i: number) => Promise<unknown>): Promise<{ ms: number[]; wallMs: number }> {
  const ms: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t = performance.now();
        await job(i);
        ms.push(performance.now() - t);
      }
    }),
  );
  return { ms, wallMs: performance.now() - started };
}
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

try {
  console.log(`bench:gifts: creating and migrating ${database}…`);
  await admin.unsafe(`create database "${database}"`);
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', databaseUrl], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const sql = postgres(databaseUrl, { max: concurrency + 2, onnotice: () => {} });
  const members = Array.from({ length: MEMBERS }, (_, i) => memberId(i + 1));
  await sql`insert into auth.users ${sql(members.map((id, i) => ({ id, email: `m${i}@bench.test` })))}`;
  await sql`insert into public.teams (id, name, created_by) values (${TEAM}, 'Bench', ${members[0]!})`;
  await sql`insert into public.team_members ${sql(members.slice(1).map((user_id) => ({ team_id: TEAM, user_id, role: 'member' })))}`;
  // every member holds plenty: the benchmark measures deliveries, not refusals
  for (const member of members) {
    await sql`select app.post_ledger_transfer(${TEAM}, 'credit_grant', 'issuance', ${'member:' + member}, 1000000000, 'bench', ${members[0]!})`;
  }

  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, streamDefinitions(streams));

  // baseline: the same movement as a bare ledger insert (one transaction, a ledger row and its two entries)
  const pair = (i: number) => [members[i % MEMBERS]!, members[(i * 7 + 1) % MEMBERS]!] as const;
  const bare = await runJobs(gifts, (i) => {
    const [from, to] = pair(i);
    return sql.begin(async (tx) => {
      const [row] = await tx<{ id: string }[]>`
        insert into public.ledger_transactions (team_id, kind, memo, created_by) values (${TEAM}, 'gift', 'bare', ${from}) returning id`;
      await tx`insert into public.ledger_entries (transaction_id, team_id, account, amount)
               values (${row!.id}, ${TEAM}, ${'member:' + from}, -1), (${row!.id}, ${TEAM}, ${'member:' + to}, 1)`;
    });
  });
  const bareRate = gifts / (bare.wallMs / 1000);
  console.log(`baseline: ${gifts} bare ledger inserts at ${bareRate.toFixed(0)}/s (p50 ${quantile(bare.ms, 0.5).toFixed(1)} ms)`);

  startWorker('workers/outbox-relay/main.ts', { OUTBOX_RELAY_POLL_INTERVAL_MS: '200' });
  startWorker('workers/consumers/gift-fabric/main.ts', { NATS_CONSUMER_GIFT_FABRIC: 'bench-gift-fabric' });

  const claims = (member: string) => JSON.stringify({ sub: member, role: 'authenticated', aud: 'authenticated' });
  const sendOne = (i: number, memo: string) => {
    const [from, to] = pair(i);
    return sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${claims(from)}, true), set_config('role', 'authenticated', true)`;
      await tx`select * from app.send_gift(${TEAM}, ${to}, 1, ${memo}, ${`${memo}-${i}`}, ${'a'.repeat(64)})`;
    });
  };
  const waitUntilApplied = async () => {
    const deadline = Date.now() + 600_000;
    for (;;) {
      const [row] = await sql<{ open: number }[]>`select count(*)::int as open from public.gifts where status = 'sent'`;
      if (row!.open === 0) return;
      if (Date.now() > deadline) throw new Error(`${row!.open} gifts still not applied after 10 minutes: is the consumer running?`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const summarise = async (memo: string) =>
    (
      await sql<{ delivered: number; refused: number; seconds: number; p50: number; p99: number }[]>`
        select count(*) filter (where status = 'delivered')::int as delivered, count(*) filter (where status = 'refused')::int as refused,
          extract(epoch from max(finished_at) - min(created_at))::float8 as seconds,
          (percentile_cont(0.5) within group (order by extract(epoch from finished_at - created_at)) * 1000)::float8 as p50,
          (percentile_cont(0.99) within group (order by extract(epoch from finished_at - created_at)) * 1000)::float8 as p99
        from public.gifts where memo = ${memo}`
    )[0]!;

  // 1. saturation: every sender as fast as it can; the consumer's rate is the throughput (latency is mostly queueing)
  const sent = await runJobs(gifts, (i) => sendOne(i, 'burst'));
  console.log(
    `sent ${gifts} gifts at ${(gifts / (sent.wallMs / 1000)).toFixed(0)}/s (request p50 ${quantile(sent.ms, 0.5).toFixed(1)} ms); waiting for deliveries…`,
  );
  await waitUntilApplied();
  const burst = await summarise('burst');
  const rate = burst.delivered / burst.seconds;

  // 2. paced at half that rate, so nothing queues: the latency of one gift, sent → delivered
  const pacedRate = Math.max(1, Math.floor(rate / 2));
  const pacedCount = Math.min(gifts, pacedRate * 20);
  const pacedStart = performance.now();
  await Promise.all(
    Array.from({ length: pacedCount }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i * 1000) / pacedRate));
      await sendOne(i, 'paced');
    }),
  );
  await waitUntilApplied();
  const paced = await summarise('paced');
  console.log(`paced: ${pacedCount} gifts at ${pacedRate}/s over ${((performance.now() - pacedStart) / 1000).toFixed(1)} s`);

  const [ledger] = await sql<{ unbalanced: number; total: string }[]>`
    select (select count(*)::int from (select transaction_id from public.ledger_entries group by 1 having sum(amount) <> 0) u) as unbalanced,
      coalesce(sum(amount), 0)::text as total from public.ledger_entries`;
  if (ledger!.unbalanced !== 0 || ledger!.total !== '0') throw new Error(`the ledger does not balance: ${JSON.stringify(ledger)}`);
  const figures = {
    gifts,
    concurrency,
    delivered: burst.delivered,
    refused: burst.refused,
    gifts_per_s: Number(rate.toFixed(1)),
    saturated_p50_ms: Number(burst.p50.toFixed(1)),
    saturated_p99_ms: Number(burst.p99.toFixed(1)),
    paced_gifts: pacedCount,
    paced_rate_per_s: pacedRate,
    request_to_delivered_p50_ms: Number(paced.p50.toFixed(1)),
    request_to_delivered_p99_ms: Number(paced.p99.toFixed(1)),
    request_p50_ms: Number(quantile(sent.ms, 0.5).toFixed(1)),
    bare_ledger_inserts_per_s: Number(bareRate.toFixed(1)),
    ratio_gifts_to_bare_ledger_insert: Number((rate / bareRate).toFixed(3)),
  };
  console.log(
    `gifts request → delivered: ${rate.toFixed(0)}/s saturated (queueing p50 ${burst.p50.toFixed(0)} ms); ` +
      `at ${pacedRate}/s p50 ${paced.p50.toFixed(1)} ms, p99 ${paced.p99.toFixed(1)} ms; ` +
      `bare ledger insert ${bareRate.toFixed(0)}/s; ratio ${(rate / bareRate).toFixed(2)} (${burst.delivered + paced.delivered} delivered, ${burst.refused + paced.refused} refused)`,
  );
  console.log(`bench:gifts: wrote ${recordFigures('gifts', figures)}`);
  await sql.end();
  for (const definition of streamDefinitions(streams)) await jsm.streams.delete(definition.name).catch(() => false);
  await nc.close();
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  if (!options['keep-db']) await admin.unsafe(`drop database if exists "${database}" with (force)`);
  else console.log(`kept ${database}`);
  await admin.end();
}
