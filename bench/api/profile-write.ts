// Profile (not a test) of the message write path in SQL: where the POST /api/messages transaction's time
// goes. On a fresh migrated and seeded database it runs --transactions message transactions as Alice (claims,
// role, the gateway's insert + message.created statement, commit) with track_functions = 'all', then prints
// per-function time (triggers, RLS helpers, the outbox) from pg_stat_user_functions, the mean transaction
// time next to a bare one-row insert transaction on the same connection, and EXPLAIN (ANALYZE, BUFFERS) of
// the statement (policy checks and per-trigger times).
//   npm run bench:profile-write -- [--transactions 500] [--keep-db]
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import postgres from 'postgres';

const { values: options } = parseArgs({
  options: {
    transactions: { type: 'string', default: '500' },
    'keep-db': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  console.log('Usage: npm run bench:profile-write -- [--transactions N] [--keep-db]   (BENCH_PG_ADMIN_URL: the server)');
  process.exit(0);
}
const TRANSACTIONS = Number(options.transactions);
if (!Number.isInteger(TRANSACTIONS) || TRANSACTIONS < 10 || TRANSACTIONS > 100_000) {
  console.error('profile: --transactions must be a whole number from 10 to 100000');
  process.exit(2);
}
const ROOT = new URL('../../', import.meta.url).pathname;
const adminUrl = new URL(process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const database = `mdao_bench_${Date.now().toString(36)}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
const CLAIMS = JSON.stringify({ sub: '00000000-0000-4000-8000-00000000a11c', role: 'authenticated', aud: 'authenticated' });
const GENERAL = '00000000-0000-4000-8000-0000000c4a01';
const say = (line: string) => console.error(`profile: ${line}`);

// the statement of functions/api/messaging/messages.queries.ts insertMessage (with its message.created event)
const MESSAGE_STATEMENT = `
  with m as (
    insert into public.messages (channel_id, team_id, author_id, body)
    select c.id, c.team_id, (select auth.uid()), 'profiled message'
    from public.channels c where c.id = '${GENERAL}' and c.archived_at is null
    returning *),
  event as (
    select m.id, jsonb_build_object('message_id', m.id, 'channel_id', m.channel_id, 'team_id', m.team_id,
      'author_id', m.author_id, 'parent_id', m.parent_id, 'created_at', m.created_at) as payload
    from m),
  enqueued as (
    select app.enqueue_event('message.created', 'message', event.id::text, event.payload, 'profile', 1) as event_id, event.payload
    from event)
  select m.id, enqueued.event_id from m, enqueued`;

async function main(): Promise<void> {
  say(`creating ${database}, applying every migration and the seed`);
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${database}"`).finally(() => admin.end());
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', databaseUrl], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', 'supabase/seed.sql'], { cwd: ROOT, stdio: 'ignore' });
    await sql.unsafe(`set track_functions = 'all'`);
    await sql.unsafe('create table public.profile_bare (id uuid primary key default gen_random_uuid(), body text not null)');
    const asAlice = `select set_config('request.jwt.claims', '${CLAIMS}', true), set_config('role', 'authenticated', true)`;
    const timeTransactions = async (run: (tx: postgres.TransactionSql) => Promise<unknown>) => {
      for (let i = 0; i < 20; i++) await sql.begin(run); // warm-up: plans, caches
      const started = performance.now();
      for (let i = 0; i < TRANSACTIONS; i++) await sql.begin(run);
      return ((performance.now() - started) * 1000) / TRANSACTIONS;
    };
    await sql`select pg_stat_reset()`;
    const messageMicros = await timeTransactions(async (tx) => {
      await tx.unsafe(asAlice);
      await tx.unsafe(MESSAGE_STATEMENT);
    });
    await sql`select pg_stat_force_next_flush()`;
    await sql`select 1`; // the flush happens at the end of the previous statement's transaction
    const bareMicros = await timeTransactions((tx) => tx.unsafe(`insert into public.profile_bare (body) values ('profiled message')`));
    await sql`select pg_stat_clear_snapshot()`;
    const functions = await sql<{ name: string; calls: number; total: number; self: number }[]>`
      select schemaname || '.' || funcname as name, calls::int,
             total_time / calls * 1000 as total, self_time / calls * 1000 as self
      from pg_stat_user_functions where calls >= ${TRANSACTIONS} order by self_time desc limit 20`;
    const plan = await sql.begin(async (tx) => {
      await tx.unsafe(asAlice);
      const rows = await tx.unsafe<{ 'QUERY PLAN': string }[]>(`explain (analyze, buffers, timing) ${MESSAGE_STATEMENT}`);
      await tx.unsafe('rollback and chain'); // the profiled row is not kept
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    console.log(
      `\nmessage transaction (claims, role, insert + message.created, commit): ${messageMicros.toFixed(0)} µs mean over ${TRANSACTIONS}`,
    );
    console.log(`bare one-row insert transaction, same connection:                   ${bareMicros.toFixed(0)} µs mean`);
    console.log(
      `ratio bare / message = ${(bareMicros / messageMicros).toFixed(2)}× (the message transaction runs at that fraction of a bare insert)`,
    );
    console.log('\nper call, functions called at least once per transaction (µs; self excludes functions it calls):');
    for (const f of functions)
      console.log(
        `  ${f.self.toFixed(1).padStart(8)} self ${f.total.toFixed(1).padStart(8)} total  ${String(f.calls).padStart(7)} calls  ${f.name}`,
      );
    console.log(`\nEXPLAIN (ANALYZE, BUFFERS) of the statement as Alice:\n${plan}`);
  } finally {
    await sql.end();
    if (options['keep-db']) say(`kept database ${database}`);
    else {
      const cleanup = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists "${database}" with (force)`).finally(() => cleanup.end());
    }
  }
}

await main().catch((error: unknown) => {
  console.error(`profile: error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
