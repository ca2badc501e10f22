// Benchmark (not a test): POST /api/messages through the gateway running under Deno — authenticated with a
// session's JWT, and with an agent's access key — next to pgbench running the same SQL transaction (set claims
// + role, insert the message, enqueue its event) against the same database in the same run. Prints throughput
// and p50/p99 of each, and their ratios (target ≥ 0.5 with the PEP on).
//
// The two sides alternate for --rounds rounds, so a change in the machine's load during the run affects both.
//
//   npm run bench:api -- [--concurrency 16] [--duration 10] [--rounds 2] [--log-level info] [--keep-db] [--dry-run]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { startDenoGateway, type DenoGateway } from '../../tests/harness/deno-gateway.ts';
import { startInspectorProfile } from '../inspector-profile.ts';
import { recordFigures } from '../results.ts';

const USAGE = `Usage: npm run bench:api -- [options]
  --concurrency N   concurrent HTTP connections and pgbench clients (default 16)
  --duration S      seconds of measurement per side and round (default 10; plus 3 s of warm-up for the gateway)
  --rounds R        alternate gateway and pgbench R times (default 2); figures are over all rounds
  --log-level L     LOG_LEVEL of the gateway: info logs a JSON line per request, as deployed (default info)
  --no-rate-limit   run the gateway without its Redis rate limiter (default: limiter on, as deployed, with
                    limits far above the load so every request is checked and none refused)
  --keep-db         keep the benchmark database afterwards (its name is printed)
  --cpu-prof DIR    write a V8 CPU profile of the gateway's first measured round (session) to DIR/gateway.cpuprofile,
                    through Deno's inspector; read it with: node --import tsx bench/cpu-profile.ts FILE
  --dry-run         print what would run, run nothing
Environment: TEST_PG_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres), PGBENCH (default
/usr/lib/postgresql/15/bin/pgbench).`;

const { values: options } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    'log-level': { type: 'string', default: 'info' },
    'no-rate-limit': { type: 'boolean', default: false },
    'keep-db': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const concurrency = Number(options.concurrency);
const durationSeconds = Number(options.duration);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) fail('--concurrency must be a whole number from 1 to 256');
if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > 600)
  fail('--duration must be a whole number of seconds from 1 to 600');
const rounds = Number(options.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) fail('--rounds must be a whole number from 1 to 20');

const ROOT = new URL('../../', import.meta.url).pathname;
const PGBENCH = process.env.PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench';
const adminUrl = new URL(process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const database = `mdao_bench_${Date.now().toString(36)}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
const ALICE = '00000000-0000-4000-8000-00000000a11c';
const GENERAL = '00000000-0000-4000-8000-0000000c4a01';
const DEMO_TEAM = '00000000-0000-4000-8000-0000000d3a00';
/** Deno's inspector port when --cpu-prof asks for a profile of the gateway. */
const inspectPort = await ephemeralPort();
const JWT_SECRET = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;

function say(message: string): void {
  console.error(`bench: ${message}`);
}
function fail(message: string): never {
  console.error(`bench: error: ${message}`);
  process.exit(1);
}

// The gateway's transaction for POST /api/messages, statement for statement (functions/_shared/db.ts,
// functions/api/queries/messages.ts insertMessage, functions/_shared/outbox.ts enqueueEvent).
const PGBENCH_SCRIPT = `BEGIN;
SELECT set_config('request.jwt.claims', :claims, true), set_config('role', 'authenticated', true);
INSERT INTO public.messages (channel_id, team_id, author_id, body)
  SELECT c.id, c.team_id, (SELECT auth.uid()), 'benchmark message'
  FROM public.channels c WHERE c.id = :channel AND c.archived_at IS NULL
  RETURNING id, channel_id, team_id, author_id, parent_id, body, created_at, edited_at, deleted_at, 0 AS followup_count
\\gset m_
SELECT app.enqueue_event('message.created', 'message', :m_id,
  jsonb_build_object('message_id', :m_id::text, 'channel_id', :m_channel_id::text, 'team_id', :m_team_id::text,
                     'author_id', :m_author_id::text, 'parent_id', NULL, 'created_at', :m_created_at::text), 'pgbench', 1);
COMMIT;
`;

// The physical reference: a bare one-row insert transaction on the same database (no RLS, triggers or outbox).
const BARE_INSERT_TABLE = 'public.bench_bare_insert';
const BARE_PGBENCH_SCRIPT = `BEGIN;
INSERT INTO ${BARE_INSERT_TABLE} (body) VALUES ('benchmark message');
COMMIT;
`;

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

interface Result {
  latencies: number[];
  completed: number;
  errors: number;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
}

function summarise(latenciesMs: number[], errors: number, seconds: number): Result {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    latencies: sorted,
    completed: sorted.length,
    errors,
    seconds,
    throughput: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

/** All rounds as one measurement: throughput = everything completed / all measured seconds. */
function combine(results: Result[]): Result {
  return summarise(
    results.flatMap((r) => r.latencies),
    results.reduce((sum, r) => sum + r.errors, 0),
    results.reduce((sum, r) => sum + r.seconds, 0),
  );
}

async function prepareDatabase(): Promise<void> {
  say(`creating database ${database} and applying every migration (scripts/migrate.sh)`);
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${database}"`);
  } finally {
    await admin.end();
  }
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', databaseUrl], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', 'supabase/seed.sql'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync(
    'psql',
    [
      databaseUrl,
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `create table ${BARE_INSERT_TABLE} (id uuid primary key default gen_random_uuid(), body text not null)`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

async function dropDatabase(): Promise<void> {
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${database}" with (force)`);
  } finally {
    await admin.end();
  }
}

async function startGateway(): Promise<DenoGateway> {
  const rateLimiter = options['no-rate-limit']
    ? {}
    : {
        REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
        RATE_LIMIT_GLOBAL: '100000000',
        RATE_LIMIT_PER_KEY: '100000000',
      };
  say(
    `starting the gateway under Deno (DB_POOL_MAX=${concurrency}, LOG_LEVEL=${options['log-level']}, rate limiter ${options['no-rate-limit'] ? 'off' : 'on'})`,
  );
  const gateway = await startDenoGateway({
    inspectPort: options['cpu-prof'] ? inspectPort : undefined,
    env: {
      APP_ENV: 'test',
      LOG_LEVEL: options['log-level'],
      DB_HOST: adminUrl.hostname,
      DB_PORT: adminUrl.port || '5432',
      DB_NAME: database,
      DB_USER: decodeURIComponent(adminUrl.username) || 'postgres',
      DB_PASSWORD: decodeURIComponent(adminUrl.password),
      DB_POOL_MAX: String(concurrency),
      JWT_SECRET,
      DEV_LOGIN_ENABLED: 'true',
      ...rateLimiter,
    },
    timeoutMs: 90_000,
  });
  say(`the gateway answers on ${gateway.url}`);
  return gateway;
}

function postMessage(agent: Agent, port: number, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/messages',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** An agent's access key in the demo team, created through the API by its owner (Alice). */
async function createAgentKey(port: number, ownerToken: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/api/teams/${DEMO_TEAM}/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench agent', bundle: 'agent', expires_in_days: 1, principal: { kind: 'agent', name: 'Bench' } }),
  });
  if (response.status !== 201) fail(`could not create an access key: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { key: string }).key;
}

async function loadGateway(port: number, token: string, seconds: number): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let sequence = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const body = JSON.stringify({ channel_id: GENERAL, body: `benchmark message ${(sequence += 1)}` });
      const sent = performance.now();
      try {
        const status = await postMessage(agent, port, token, body);
        if (status === 201) latencies.push(performance.now() - sent);
        else errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return summarise(latencies, errors, elapsed);
}

function runPgbench(sqlScript = PGBENCH_SCRIPT): Result {
  const directory = mkdtempSync(join(tmpdir(), 'mdao-pgbench-'));
  try {
    const script = join(directory, 'post-message.sql');
    writeFileSync(script, sqlScript);
    const claims = JSON.stringify({ sub: ALICE, role: 'authenticated', aud: 'authenticated', email: 'alice@demo.local' });
    const args = [
      '-n',
      '-M',
      'extended',
      '-c',
      String(concurrency),
      '-j',
      '2',
      '-T',
      String(durationSeconds),
      '-f',
      script,
      '-D',
      `claims=${claims}`,
      '-D',
      `channel=${GENERAL}`,
      '-l',
      `--log-prefix=${join(directory, 'tx')}`,
      '-h',
      adminUrl.hostname,
      '-p',
      adminUrl.port || '5432',
      '-U',
      decodeURIComponent(adminUrl.username) || 'postgres',
      database,
    ];
    say(`pgbench ${args.slice(0, 10).join(' ')} … for ${durationSeconds} s`);
    const run = spawnSync(PGBENCH, args, { encoding: 'utf8', env: { ...process.env, PGPASSWORD: decodeURIComponent(adminUrl.password) } });
    if (run.error) fail(`could not run ${PGBENCH} (${run.error.message}); install postgresql-contrib-15 or set PGBENCH`);
    if (run.status !== 0) fail(`pgbench failed:\n${run.stderr}${run.stdout}`);
    const failed = Number(/number of failed transactions: (\d+)/.exec(run.stdout)?.[1] ?? 0);
    const latencies: number[] = [];
    for (const file of readdirSync(directory).filter((name) => name.startsWith('tx'))) {
      for (const line of readFileSync(join(directory, file), 'utf8').split('\n')) {
        const fields = line.trim().split(/\s+/);
        if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000); // µs → ms
      }
    }
    return summarise(latencies, failed, durationSeconds);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const format = (label: string, r: Result, unit: string) =>
  `${label}\n  ${r.completed} ${unit} in ${r.seconds.toFixed(1)} s, ${r.errors} errors → ${r.throughput.toFixed(0)} ${unit}/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms`;

async function main(): Promise<void> {
  if (options['dry-run']) {
    console.log(`would create ${database}, migrate and seed it, start functions/api/serve-local.ts under Deno,`);
    console.log(`then ${rounds} times: POST /api/messages from ${concurrency} keep-alive connections for ${durationSeconds} s,`);
    console.log(
      `then ${PGBENCH} -M extended -c ${concurrency} -T ${durationSeconds} with this script; finally drop the database:\n${PGBENCH_SCRIPT}`,
    );
    return;
  }
  let gateway: DenoGateway | undefined;
  try {
    await prepareDatabase();
    gateway = await startGateway();
    const { port } = gateway;
    const login = await fetch(`http://127.0.0.1:${port}/api/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@demo.local' }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const accessKey = await createAgentKey(port, token);
    say('warming up the gateway for 3 s (a session, then an access key)');
    await loadGateway(port, token, 3);
    await loadGateway(port, accessKey, 3);
    const apiRounds: Result[] = [];
    const keyRounds: Result[] = [];
    const benchRounds: Result[] = [];
    const bareRounds: Result[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      say(
        `round ${round}/${rounds}: POST /api/messages for ${durationSeconds} s with ${concurrency} connections, as a session then as a key`,
      );
      const profiler = round === 1 && options['cpu-prof'] ? await startInspectorProfile(inspectPort) : undefined;
      apiRounds.push(await loadGateway(port, token, durationSeconds));
      if (profiler) {
        mkdirSync(options['cpu-prof']!, { recursive: true });
        const file = join(options['cpu-prof']!, 'gateway.cpuprofile');
        await profiler.stop(file);
        say(`the gateway's CPU profile of round 1 is in ${file}`);
      }
      keyRounds.push(await loadGateway(port, accessKey, durationSeconds));
      benchRounds.push(runPgbench());
      bareRounds.push(runPgbench(BARE_PGBENCH_SCRIPT));
      say(
        `round ${round}/${rounds}: gateway ${apiRounds.at(-1)!.throughput.toFixed(0)}/s (key ${keyRounds.at(-1)!.throughput.toFixed(0)}/s), pgbench ${benchRounds.at(-1)!.throughput.toFixed(0)}/s`,
      );
    }
    const api = combine(apiRounds);
    const viaKey = combine(keyRounds);
    const bench = combine(benchRounds);
    const bare = combine(bareRounds);
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    const [events] = await sql<
      { count: number }[]
    >`select count(*)::int as count from public.outbox_events where event_type = 'message.created'`;
    await sql.end();
    console.log(
      `\nmachine: ${cpus().length} cores; database ${database}; ${events?.count ?? 0} message.created events written by both sides`,
    );
    console.log(
      format(
        `gateway  POST /api/messages (Deno, HTTP keep-alive, ${concurrency} connections, LOG_LEVEL=${options['log-level']}, rate limiter ${options['no-rate-limit'] ? 'off' : 'on'})`,
        api,
        'requests',
      ),
    );
    console.log(format(`gateway  the same, authenticated with an agent's access key (PEP: the key's bundle)`, viaKey, 'requests'));
    console.log(format(`pgbench  the same transaction (-M extended, ${concurrency} clients, 2 threads)`, bench, 'transactions'));
    console.log(format(`pgbench  a bare one-row insert transaction, same database and clients (the reference)`, bare, 'transactions'));
    const ratio = api.throughput / bench.throughput;
    const sqlRatio = bench.throughput / bare.throughput;
    console.log(
      `ratio    message transaction / bare insert (pgbench) = ${sqlRatio.toFixed(2)} (target ≥ 0.4: ${sqlRatio >= 0.4 ? 'met' : 'NOT met'})`,
    );
    console.log(`ratio    gateway / pgbench throughput = ${ratio.toFixed(2)} (target ≥ 0.6: ${ratio >= 0.6 ? 'met' : 'NOT met'})`);
    console.log(`ratio    gateway with an access key / pgbench = ${(viaKey.throughput / bench.throughput).toFixed(2)}`);
    const figuresOf = ({ latencies: _latencies, ...figures }: Result) => figures;
    // a profiled gateway runs slower: its figures are not the ones the README table shows
    if (options['cpu-prof']) say('not recording the figures of a profiled run');
    else
      say(
        `figures written to ${recordFigures('api', {
          concurrency,
          duration_seconds: durationSeconds,
          rounds,
          gateway: figuresOf(api),
          gateway_access_key: figuresOf(viaKey),
          pgbench: figuresOf(bench),
          pgbench_bare_insert: figuresOf(bare),
          ratio_message_to_bare_insert: sqlRatio,
          ratio_gateway_to_pgbench: ratio,
        })}`,
      );
  } finally {
    await gateway?.stop();
    if (options['keep-db']) say(`kept database ${database}`);
    else await dropDatabase();
  }
}

await main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
process.exit(0);
