// Benchmark (not a test): live delivery at scale. Opens --clients SSE streams on GET /api/live across two
// teams (10 streams per user, half the users in each team) against the gateway under Deno, with the outbox
// relay and JetStream behind it, posts messages through POST /api/messages at a steady --rate (alternating
// teams), and measures post → receive latency at every client that should see each message (p50/p99/max),
// deliveries missed, and the gateway's memory per idle stream. The physical reference in the same run: a
// plain core-NATS subscriber (TCP) on the same subject, which sees each event the moment the relay publishes
// it; the ratio says what the hub and the SSE streams add on top of post → commit → relay → NATS.
//
//   npm run bench:live -- [--clients 1000] [--rate 50] [--seconds 20] [--results FILE] [--keep-db] [--dry-run]
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { subjectFor } from '../../functions/_shared/events/catalog.ts';
import { streamDefinitions } from '../../functions/_shared/events/streams.ts';
import { ensureStreams } from '../../workers/lib/streams.ts';
import { denoGateway, startDenoGateway, type DenoGateway } from '../../tests/harness/deno-gateway.ts';
import { recordFigures } from '../results.ts';

const USAGE = `Usage: npm run bench:live -- [options]
  --clients N     live streams to open, split over two teams, 10 per user (default 1000)
  --rate R        messages posted per second, alternating the two teams (default 50)
  --seconds S     seconds of steady posting (default 20)
  --results FILE  also write the figures as JSON there (default bench/results/live.json; '' for none)
  --keep-db       keep the benchmark database afterwards (its name is printed)
  --dry-run       print what would run, run nothing
Environment: BENCH_PG_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres), BENCH_NATS_URL
(default nats://127.0.0.1:4222).`;

const { values: options } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    results: { type: 'string', default: 'bench/results/live.json' },
    'keep-db': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const CLIENTS = Number(options.clients);
const RATE = Number(options.rate);
const SECONDS = Number(options.seconds);
if (!Number.isInteger(CLIENTS) || CLIENTS < 2 || CLIENTS > 5000) fail('--clients must be a whole number from 2 to 5000');
if (!Number.isFinite(RATE) || RATE <= 0 || RATE > 1000) fail('--rate must be a number of messages per second from 0 to 1000');
if (!Number.isInteger(SECONDS) || SECONDS < 1 || SECONDS > 600) fail('--seconds must be a whole number from 1 to 600');

const STREAMS_PER_USER = 10; // under the gateway's 20 streams per principal
const ROOT = new URL('../../', import.meta.url).pathname;
const adminUrl = new URL(process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const runId = Date.now().toString(36);
const database = `mdao_bench_${runId}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
const natsSettings = { NATS_STREAM_EVENTS: `BENCH_LIVE_${runId}`.toUpperCase(), NATS_SUBJECT_PREFIX: `bench_live_${runId}` };
const JWT_SECRET = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;
const TEAM_A = '00000000-0000-4000-8000-0000000d3a00'; // the seed's demo team, Alice owns it
const CHANNEL_A = '00000000-0000-4000-8000-0000000c4a01';
const TEAM_B = '00000000-0000-4000-8000-0000000d3b00';
const CHANNEL_B = '00000000-0000-4000-8000-0000000c4b01';

function say(message: string): void {
  console.error(`bench: ${message}`);
}
function fail(message: string): never {
  console.error(`bench: error: ${message}`);
  process.exit(1);
}
/** A wall-clock time in ms with sub-ms precision, comparable across this process's callbacks. */
const now = () => performance.timeOrigin + performance.now();
const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

/** Resident memory of a process in bytes (Linux /proc). */
function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}
/** user + system CPU of a process so far, in ms (Linux /proc, 100 ticks a second). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function prepareDatabase(): Promise<void> {
  say(`creating database ${database}, applying every migration and the seed`);
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${database}"`).finally(() => admin.end());
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', databaseUrl], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', 'supabase/seed.sql'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function dropDatabase(): Promise<void> {
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${database}" with (force)`).finally(() => admin.end());
}

function startRelay(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/outbox-relay/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...databaseEnv(), APP_ENV: 'test', LOG_LEVEL: 'info', NATS_URL: natsUrl, ...natsSettings },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"relay started"')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`the relay exited with ${code} before it started`)));
  });
}

function databaseEnv() {
  return {
    DB_HOST: adminUrl.hostname,
    DB_PORT: adminUrl.port || '5432',
    DB_NAME: database,
    DB_USER: decodeURIComponent(adminUrl.username) || 'postgres',
    DB_PASSWORD: decodeURIComponent(adminUrl.password),
  };
}

async function startGateway(): Promise<DenoGateway> {
  say('starting the gateway under Deno (rate limiter on, limits far above the load)');
  return startDenoGateway({
    env: {
      APP_ENV: 'test',
      LOG_LEVEL: 'warn',
      ...databaseEnv(),
      DB_POOL_MAX: '16',
      JWT_SECRET,
      DEV_LOGIN_ENABLED: 'true',
      NATS_URL: natsUrl,
      ...natsSettings,
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      RATE_LIMIT_GLOBAL: '100000000',
      RATE_LIMIT_PER_KEY: '100000000',
    },
    timeoutMs: 90_000,
  });
}

async function devLogin(port: number, email: string): Promise<{ token: string; userId: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/api/auth/dev-login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  if (response.status !== 200) fail(`dev-login of ${email} answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { access_token: string; user: { id: string } };
  return { token: body.access_token, userId: body.user.id };
}

/** Team B with its channel and owner, and the members of both teams: written directly, as set-up data. */
async function addTeams(ownerB: string, membersA: string[], membersB: string[]): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`insert into public.teams (id, name, created_by) values (${TEAM_B}, 'Bench Team B', ${ownerB}) on conflict (id) do nothing`;
    await sql`insert into public.channels (id, team_id, name, topic, created_by)
              values (${CHANNEL_B}, ${TEAM_B}, 'general', 'benchmark', ${ownerB}) on conflict (id) do nothing`;
    const rows = [
      ...membersA.map((user_id) => ({ team_id: TEAM_A, user_id, role: 'member' })),
      ...membersB.map((user_id) => ({ team_id: TEAM_B, user_id, role: 'member' })),
    ];
    await sql`insert into public.team_members ${sql(rows, 'team_id', 'user_id', 'role')} on conflict (team_id, user_id) do nothing`;
  } finally {
    await sql.end();
  }
}

/** One open live stream: counts `message.created` arrivals by message id. */
interface LiveClient {
  team: string;
  response: IncomingMessage;
}

/** Arrival times of each message at the clients, by message id. */
const arrivals = new Map<string, number[]>();
const MESSAGE_ID = /"message_id":"([0-9a-f-]{36})"/g;

function openStream(port: number, token: string, team: string): Promise<LiveClient> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/live',
        agent: false,
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          return reject(new Error(`GET /api/live answered ${response.statusCode}`));
        }
        response.setEncoding('utf8');
        let ready = false;
        let carry = '';
        response.on('data', (chunk: string) => {
          const at = now();
          if (!ready) {
            ready = chunk.includes('event: ready');
            if (ready) resolve({ team, response });
          }
          // only the ids are read: a frame may be split across chunks, so the unfinished tail is kept
          const text = carry + chunk;
          const cut = text.lastIndexOf('\n\n');
          carry = cut === -1 ? text : text.slice(cut + 2);
          const complete = cut === -1 ? '' : text.slice(0, cut);
          for (const match of complete.matchAll(MESSAGE_ID)) {
            const list = arrivals.get(match[1]!);
            if (list) list.push(at);
            else arrivals.set(match[1]!, [at]);
          }
        });
        response.on('error', () => {});
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function openAll(port: number, users: { token: string; team: string }[]): Promise<LiveClient[]> {
  const wanted = users.flatMap((user) => Array.from({ length: STREAMS_PER_USER }, () => user)).slice(0, CLIENTS);
  const clients: LiveClient[] = [];
  for (let i = 0; i < wanted.length; i += 50) {
    clients.push(...(await Promise.all(wanted.slice(i, i + 50).map((user) => openStream(port, user.token, user.team)))));
  }
  return clients;
}

interface Posted {
  id: string;
  team: string;
  sentAt: number;
  /** When POST /api/messages answered 201 (the transaction committed). */
  answeredAt: number;
}

function postMessage(agent: Agent, port: number, token: string, channel: string, text: string): Promise<string> {
  const body = JSON.stringify({ channel_id: channel, body: text });
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
        let answer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (answer += chunk));
        res.on('end', () =>
          res.statusCode === 201
            ? resolve((JSON.parse(answer) as { id: string }).id)
            : reject(new Error(`POST answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Posts at a steady rate (by schedule, not by answer: a slow answer does not slow the next post). */
async function postSteadily(
  port: number,
  posters: { token: string; team: string; channel: string }[],
): Promise<{ posted: Posted[]; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const total = Math.round(RATE * SECONDS);
  const interval = 1000 / RATE;
  const posted: Posted[] = [];
  const pending: Promise<void>[] = [];
  let errors = 0;
  const start = now();
  for (let n = 0; n < total; n++) {
    const due = start + n * interval;
    const wait = due - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const poster = posters[n % posters.length]!;
    const sentAt = now();
    pending.push(
      postMessage(agent, port, poster.token, poster.channel, `live benchmark ${n}`).then(
        (id) => void posted.push({ id, team: poster.team, sentAt, answeredAt: now() }),
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return { posted, errors };
}

interface Latency {
  deliveries: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
}

function summarise(latencies: number[], expected: number): Latency {
  const sorted = latencies.sort((a, b) => a - b);
  return { deliveries: sorted.length, expected, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
}

/** RSS growth per idle stream of bench/live/bare-sse-server.ts with as many streams open as the gateway had:
    what Deno's HTTP server and a stream cost before any of the gateway's own state. */
async function bareStreamBytes(count: number): Promise<number> {
  const server = spawn(denoGateway.program, ['run', '--allow-net', '--allow-env', 'bench/live/bare-sse-server.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: server.stdout! }).on('line', (line) => {
        const match = /^listening (\d+)$/.exec(line);
        if (match) resolve(Number(match[1]));
      });
      server.once('exit', (code) => reject(new Error(`the bare SSE server exited with ${code}`)));
    });
    const before = residentBytes(server.pid!);
    const opened: LiveClient[] = [];
    for (let i = 0; i < count; i += 50) {
      const batch = Array.from({ length: Math.min(50, count - i) }, () => openStream(port, 'none', 'bare'));
      opened.push(...(await Promise.all(batch)));
    }
    await new Promise((resolve) => setTimeout(resolve, 3000)); // idle, as for the gateway
    const perStream = (residentBytes(server.pid!) - before) / opened.length;
    for (const client of opened) client.response.destroy();
    return perStream;
  } finally {
    server.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const users = Math.ceil(CLIENTS / STREAMS_PER_USER);
  if (options['dry-run']) {
    console.log(`would create ${database}, migrate and seed it, create streams ${natsSettings.NATS_STREAM_EVENTS} on ${natsUrl},`);
    console.log(`start the outbox relay and the gateway under Deno, sign in ${users} users (half in each of two teams),`);
    console.log(
      `open ${CLIENTS} streams on GET /api/live (${STREAMS_PER_USER} per user), subscribe a core NATS client to the same subject,`,
    );
    console.log(`post ${RATE} messages/s for ${SECONDS} s and measure post → receive at every client; then remove it all`);
    return;
  }
  say(
    `${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  let gateway: DenoGateway | undefined;
  let relay: ChildProcess | undefined;
  let nc: NatsConnection | undefined;
  const clients: LiveClient[] = [];
  try {
    await prepareDatabase();
    nc = await connect({ servers: natsUrl, name: 'microdao-bench-live' });
    await ensureStreams(await jetstreamManager(nc), streamDefinitions({ APP_ENV: 'test', ...natsSettings }));
    relay = await startRelay();
    gateway = await startGateway();
    const { port } = gateway;
    say(`the gateway answers on ${gateway.url}; signing in ${users} users and Alice`);
    const alice = await devLogin(port, 'alice@demo.local');
    const ownerB = await devLogin(port, `live-owner-b-${runId}@bench.local`);
    const members: { token: string; userId: string; team: string }[] = [];
    for (let i = 0; i < users; i += 20) {
      const batch = Array.from({ length: Math.min(20, users - i) }, (_, k) => i + k);
      const signedIn = await Promise.all(batch.map((n) => devLogin(port, `live-${n}-${runId}@bench.local`)));
      signedIn.forEach((user, k) => members.push({ ...user, team: batch[k]! % 2 === 0 ? TEAM_A : TEAM_B }));
    }
    await addTeams(
      ownerB.userId,
      members.filter((m) => m.team === TEAM_A).map((m) => m.userId),
      [ownerB.userId, ...members.filter((m) => m.team === TEAM_B).map((m) => m.userId)],
    );

    // the reference: what a plain NATS subscriber sees of the same events
    const natsArrivals = new Map<string, number>();
    const subscription = nc.subscribe(subjectFor(natsSettings.NATS_SUBJECT_PREFIX, 'message.created'), {
      callback: (_error, message) => {
        const at = now();
        natsArrivals.set((message.json() as { message_id: string }).message_id, at);
      },
    });
    await nc.flush();

    const posters = [
      { token: alice.token, team: TEAM_A, channel: CHANNEL_A },
      { token: ownerB.token, team: TEAM_B, channel: CHANNEL_B },
    ];
    say('warming up: 2 s of posting with no stream open');
    const gatewayPid = gateway.process.pid;
    const warmRate = RATE;
    for (let n = 0; n < warmRate * 2; n++) await postMessage(new Agent(), port, posters[n % 2]!.token, posters[n % 2]!.channel, 'warm-up');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    arrivals.clear();
    natsArrivals.clear();

    const rssBefore = residentBytes(gatewayPid);
    say(`opening ${CLIENTS} live streams (gateway RSS ${(rssBefore / 2 ** 20).toFixed(1)} MiB)`);
    const openStarted = now();
    clients.push(...(await openAll(port, members)));
    const openSeconds = (now() - openStarted) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 3000)); // idle: what the open streams hold, not their set-up
    const rssIdle = residentBytes(gatewayPid);
    const perStreamBytes = (rssIdle - rssBefore) / clients.length;
    say(
      `${clients.length} streams open in ${openSeconds.toFixed(1)} s; gateway RSS ${(rssIdle / 2 ** 20).toFixed(1)} MiB → ${(perStreamBytes / 1024).toFixed(1)} KB per idle stream`,
    );

    say(`posting ${RATE} messages/s for ${SECONDS} s`);
    const cpuBefore = cpuMs(gatewayPid);
    const ownCpuBefore = process.cpuUsage();
    const postStarted = now();
    const { posted, errors } = await postSteadily(port, posters);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // stragglers
    const gatewayCpu = (cpuMs(gatewayPid) - cpuBefore) / ((now() - postStarted) / 1000) / 10; // % of one core
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const ownCpuPercent = ((ownCpu.user + ownCpu.system) / 1000 / (now() - postStarted)) * 100;
    subscription.unsubscribe();

    const perTeam = new Map<string, number>();
    for (const client of clients) perTeam.set(client.team, (perTeam.get(client.team) ?? 0) + 1);
    const liveLatencies: number[] = [];
    const natsLatencies: number[] = [];
    const fanOutLatencies: number[] = [];
    let expected = 0;
    for (const message of posted) {
      expected += perTeam.get(message.team) ?? 0;
      const natsAt = natsArrivals.get(message.id);
      if (natsAt !== undefined) natsLatencies.push(natsAt - message.sentAt);
      for (const at of arrivals.get(message.id) ?? []) {
        liveLatencies.push(at - message.sentAt);
        if (natsAt !== undefined) fanOutLatencies.push(at - natsAt);
      }
    }
    const live = summarise(liveLatencies, expected);
    const reference = summarise(natsLatencies, posted.length);
    const answered = summarise(
      posted.map((message) => message.answeredAt - message.sentAt),
      posted.length,
    );
    const fanOut = summarise(fanOutLatencies, expected);
    const format = (label: string, l: Latency) =>
      `${label}\n  ${l.deliveries}/${l.expected} deliveries   p50 ${l.p50.toFixed(1)} ms   p99 ${l.p99.toFixed(1)} ms   max ${l.max.toFixed(1)} ms`;
    console.log(`\nmachine: ${cpus().length} cores; ${posted.length} messages posted (${errors} errors) at ${RATE}/s over two teams`);
    console.log(format(`live     post → SSE event at each of ${clients.length} clients (gateway under Deno)`, live));
    console.log(format('nats     post → the same event at one core NATS subscriber (TCP), same run', reference));
    console.log(format('post     post → 201 answer (the transaction committed)', answered));
    console.log(format('fan-out  NATS subscriber → SSE client: what the hub and the streams add', fanOut));
    console.log(
      `memory   ${(perStreamBytes / 1024).toFixed(1)} KB gateway RSS per idle stream (target ≤ 50: ${perStreamBytes <= 50 * 1024 ? 'met' : 'NOT met'})`,
    );
    console.log(
      `cpu      gateway ${gatewayCpu.toFixed(0)}% of one core while posting; this benchmark's clients ${ownCpuPercent.toFixed(0)}%`,
    );
    const streamCount = clients.length;
    for (const client of clients.splice(0)) client.response.destroy();
    const barePerStream = await bareStreamBytes(streamCount);
    console.log(
      `memory   reference: a bare Deno.serve SSE server, same ${streamCount} streams: ${(barePerStream / 1024).toFixed(1)} KB RSS per idle stream ` +
        `(gateway / bare = ${(perStreamBytes / barePerStream).toFixed(2)}×)`,
    );
    const p99Ratio = live.p99 / reference.p99;
    console.log(`ratio    live p99 / nats p99 = ${p99Ratio.toFixed(2)}; live p50 / nats p50 = ${(live.p50 / reference.p50).toFixed(2)}`);
    console.log(`target   live p99 ≤ 100 ms: ${live.p99 <= 100 && live.deliveries === live.expected ? 'met' : 'NOT met'}`);
    if (options.results) {
      const file = recordFigures(
        'live',
        {
          clients: streamCount,
          rate: RATE,
          seconds: SECONDS,
          messages: posted.length,
          post_errors: errors,
          live,
          nats: reference,
          post: answered,
          fan_out: fanOut,
          kb_per_idle_stream: perStreamBytes / 1024,
          bare_deno_kb_per_idle_stream: barePerStream / 1024,
          gateway_cpu_percent: gatewayCpu,
          p99_ratio: p99Ratio,
        },
        options.results,
      );
      say(`figures written to ${file}`);
    }
  } finally {
    for (const client of clients) client.response.destroy();
    await gateway?.stop();
    relay?.kill('SIGTERM');
    if (nc) {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(natsSettings.NATS_STREAM_EVENTS).catch(() => {});
      await jsm.streams.delete(`${natsSettings.NATS_STREAM_EVENTS}_DLQ`).catch(() => {});
      await nc.close();
    }
    if (options['keep-db']) say(`kept database ${database}`);
    else await dropDatabase();
  }
}

await main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
process.exit(0);
