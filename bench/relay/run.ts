// Benchmark (not a test): how fast the outbox relay drains the outbox compared with publishing the same
// events straight to JetStream, and how long an event takes from commit to stream at a steady rate.
//   npm run bench:relay [-- --events 100000 --rate 2000 --seconds 15]
// Uses a fresh database (migrated by scripts/migrate.sh) and fresh streams and subject prefixes on the
// NATS server; removes them at the end. BENCH_PG_ADMIN_URL and BENCH_NATS_URL point it elsewhere.
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { subjectFor } from '../../functions/_shared/events/catalog.ts';
import { EVENT_HEADERS } from '../../functions/_shared/events/headers.ts';
import { streamDefinitions } from '../../functions/_shared/events/streams.ts';
import { JetStreamAsyncPublisher } from '../../workers/lib/jetstream-publisher.ts';
import { ensureStreams } from '../../workers/lib/streams.ts';
import { recordFigures } from '../results.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    aggregates: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '15' },
    window: { type: 'string', default: '1024' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(
    'Usage: npm run bench:relay [-- --events N --aggregates N --rate EVENTS_PER_S --seconds S --window IN_FLIGHT --only throughput|latency --cpu-prof DIR]',
  );
  process.exit(0);
}
const EVENTS = Number(args.events);
const AGGREGATES = Number(args.aggregates);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const WINDOW = Number(args.window);
const ONLY = args.only;
/** Where the relay writes a V8 CPU profile of its run (node --cpu-prof); summarise it with bench/cpu-profile.ts. */
const CPU_PROFILE_DIR = args['cpu-prof'];
if (ONLY !== undefined && ONLY !== 'throughput' && ONLY !== 'latency') {
  console.error(`bench: --only takes throughput or latency, not '${ONLY}'`);
  process.exit(2);
}
const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';

const runId = Date.now().toString(36);
const database = `mdao_bench_${runId}`;
const databaseUrl = (() => {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
})();
const say = (line: string) => console.log(`bench: ${line}`);
const children = new Set<ChildProcess>();
const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const microsPerEvent = (micros: number) => (micros / EVENTS).toFixed(1);
/** What this run measured, written to bench/results/relay.json at the end. */
const figures: Record<string, number> = {};
const CLOCK_TICKS_PER_SECOND = 100;

/** user + system CPU of a process so far, in µs (Linux /proc). */
function processCpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0; // gone, or not Linux
  }
}

/** Busy and idle clock ticks of the whole machine so far (/proc/stat). */
function machineCpuTicks(): { busy: number; idle: number } {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: ticks.reduce((a, b) => a + b, 0) - idle, idle };
  } catch {
    return { busy: 0, idle: 0 };
  }
}

/** CPU of every postgres process on the machine so far, in µs (other databases' work included). */
function postgresCpuMicros(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += processCpuMicros(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

interface BenchEvent {
  id: string;
  aggregateId: string;
  payload: string;
  correlationId: string;
}

function makeEvents(count: number): BenchEvent[] {
  const createdAt = new Date().toISOString();
  return Array.from({ length: count }, (_, n) => ({
    id: randomUUID(),
    aggregateId: `bench-${n % AGGREGATES}`,
    payload: JSON.stringify({
      message_id: randomUUID(),
      channel_id: randomUUID(),
      team_id: randomUUID(),
      author_id: randomUUID(),
      parent_id: null,
      created_at: createdAt,
    }),
    correlationId: `bench-${n}`,
  }));
}

function eventHeaders(event: BenchEvent) {
  const h = natsHeaders();
  h.set(EVENT_HEADERS.id, event.id);
  h.set(EVENT_HEADERS.type, 'message.created');
  h.set(EVENT_HEADERS.version, '1');
  h.set(EVENT_HEADERS.correlationId, event.correlationId);
  h.set(EVENT_HEADERS.aggregateType, 'message');
  h.set(EVENT_HEADERS.aggregateId, event.aggregateId);
  h.set(EVENT_HEADERS.occurredAt, new Date().toISOString());
  return h;
}

/** Publishes every event with at most `window` unacknowledged; returns elapsed ms. */
async function publishWindowed(events: BenchEvent[], window: number, publishOne: (event: BenchEvent) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < events.length) await publishOne(events[next++]!);
  };
  await Promise.all(Array.from({ length: window }, worker));
  return performance.now() - started;
}

async function streamsFor(jsm: JetStreamManager, label: string) {
  const settings = {
    APP_ENV: 'test' as const,
    NATS_STREAM_EVENTS: `BENCH_${runId}_${label}`.toUpperCase(),
    NATS_SUBJECT_PREFIX: `bench_${runId}_${label}`,
  };
  await ensureStreams(jsm, streamDefinitions(settings));
  return settings;
}

async function streamMessages(jsm: JetStreamManager, name: string): Promise<number> {
  return (await jsm.streams.info(name)).state.messages;
}

function startRelay(settings: { NATS_STREAM_EVENTS: string; NATS_SUBJECT_PREFIX: string }): Promise<ChildProcess> {
  const db = new URL(databaseUrl);
  const profiling = CPU_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROFILE_DIR] : [];
  const child = spawn(process.execPath, [...profiling, '--import', 'tsx', 'workers/outbox-relay/main.ts'], {
    env: {
      ...process.env,
      APP_ENV: 'test',
      LOG_LEVEL: 'info',
      DB_HOST: db.hostname,
      DB_PORT: db.port || '5432',
      DB_NAME: database,
      DB_USER: decodeURIComponent(db.username) || 'postgres',
      DB_PASSWORD: decodeURIComponent(db.password),
      NATS_URL: natsUrl,
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"relay started"')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`the relay exited with ${code} before it started`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  children.delete(child);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function main(): Promise<void> {
  say(
    `${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${EVENTS} events over ${AGGREGATES} aggregates`,
  );
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${database}"`);
  await admin.end();
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', databaseUrl], { stdio: ['ignore', 'ignore', 'inherit'] });
  const sql = postgres(databaseUrl, { max: 4, prepare: false, onnotice: () => {} });
  const nc: NatsConnection = await connect({ servers: natsUrl, name: 'microdao-bench' });
  const jsm = await jetstreamManager(nc);
  const created: string[] = [];
  try {
    const relayStreams = await streamsFor(jsm, 'relay');
    created.push(relayStreams.NATS_STREAM_EVENTS);
    if (ONLY !== 'latency') await measureThroughput(sql, jsm, nc, relayStreams, created);
    if (ONLY !== 'throughput') await measureLatency(jsm, nc, relayStreams);
    if (ONLY === undefined) say(`figures written to ${recordFigures('relay', { events: EVENTS, ...figures })}`);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    for (const name of created) {
      await jsm.streams.delete(name).catch(() => {});
      await jsm.streams.delete(`${name}_DLQ`).catch(() => {});
    }
    await nc.close();
    await sql.end();
    const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`drop database if exists "${database}" with (force)`);
    await cleanup.end();
  }
}

type Streams = Awaited<ReturnType<typeof streamsFor>>;

/** 100k events: raw publish (two ways) vs the relay draining them from the outbox, same server, same run. */
async function measureThroughput(sql: postgres.Sql, jsm: JetStreamManager, nc: NatsConnection, relayStreams: Streams, created: string[]) {
  const events = makeEvents(EVENTS);

  // 1. Raw JetStream, the relay's publishing primitive (async publish, one inbox, acks collected)
  const rawAsync = await streamsFor(jsm, 'rawasync');
  created.push(rawAsync.NATS_STREAM_EVENTS);
  const publisher = new JetStreamAsyncPublisher(nc, 30_000);
  const subjectAsync = subjectFor(rawAsync.NATS_SUBJECT_PREFIX, 'message.created');
  const encoder = new TextEncoder();
  const rawCpuBefore = process.cpuUsage();
  const rawAsyncMs = await publishWindowed(events, WINDOW, (e) =>
    publisher.publish(subjectAsync, encoder.encode(e.payload), eventHeaders(e)),
  );
  publisher.close();
  if ((await streamMessages(jsm, rawAsync.NATS_STREAM_EVENTS)) !== EVENTS) throw new Error('raw async publish lost messages');
  const rawCpu = process.cpuUsage(rawCpuBefore);
  figures.raw_async_events_per_s = perSecond(EVENTS, rawAsyncMs);
  figures.raw_async_cpu_us_per_event = (rawCpu.user + rawCpu.system) / EVENTS;
  say(
    `raw async publish (${WINDOW} in flight):  ${perSecond(EVENTS, rawAsyncMs)} events/s (${(rawAsyncMs / 1000).toFixed(2)} s), ` +
      `publisher CPU ${microsPerEvent(rawCpu.user + rawCpu.system)} µs/event`,
  );

  // 2. Raw JetStream through the client library's js.publish (one request per message)
  const rawJs = await streamsFor(jsm, 'rawjs');
  created.push(rawJs.NATS_STREAM_EVENTS);
  const js = jetstream(nc, { timeout: 30_000 });
  const subjectJs = subjectFor(rawJs.NATS_SUBJECT_PREFIX, 'message.created');
  const rawJsMs = await publishWindowed(events, WINDOW, (e) => js.publish(subjectJs, e.payload, { headers: eventHeaders(e) }));
  say(`raw js.publish (${WINDOW} in flight):     ${perSecond(EVENTS, rawJsMs)} events/s (${(rawJsMs / 1000).toFixed(2)} s)`);

  // 3. The relay draining the same events from the outbox
  for (let i = 0; i < events.length; i += 1000) {
    const chunk = events.slice(i, i + 1000);
    await sql`
        insert into public.outbox_events (id, aggregate_type, aggregate_id, event_type, payload, correlation_id)
        select id, 'message', "aggregateId", 'message.created', payload::jsonb, "correlationId"
        from jsonb_to_recordset(${sql.json(chunk as unknown as postgres.JSONValue)}::jsonb) as t(id uuid, "aggregateId" text, payload text, "correlationId" text)`;
  }
  await sql`vacuum analyze public.outbox_events`;
  const relay = await startRelay(relayStreams);
  const relayCpuBefore = processCpuMicros(relay.pid!);
  const postgresCpuBefore = postgresCpuMicros();
  const drainStarted = performance.now();
  await waitFor(
    'the relay to drain the outbox',
    async () => (await sql`select 1 from public.outbox_events where not processed and dead_lettered_at is null limit 1`).length === 0,
    600_000,
  );
  const relayMs = performance.now() - drainStarted;
  const relayCpu = processCpuMicros(relay.pid!) - relayCpuBefore;
  const postgresCpu = postgresCpuMicros() - postgresCpuBefore;
  const inStream = await streamMessages(jsm, relayStreams.NATS_STREAM_EVENTS);
  if (inStream !== EVENTS) throw new Error(`the relay's stream holds ${inStream} messages, expected ${EVENTS}`);
  const relayRate = perSecond(EVENTS, relayMs);
  const bestRaw = Math.max(perSecond(EVENTS, rawAsyncMs), perSecond(EVENTS, rawJsMs));
  say(
    `relay drain (claim → publish → mark):   ${relayRate} events/s (${(relayMs / 1000).toFixed(2)} s), stream holds ${inStream}; ` +
      `relay CPU ${microsPerEvent(relayCpu)} µs/event, Postgres CPU ${microsPerEvent(postgresCpu)} µs/event (all backends on the machine)`,
  );
  Object.assign(figures, {
    relay_events_per_s: relayRate,
    relay_cpu_us_per_event: relayCpu / EVENTS,
    postgres_cpu_us_per_event: postgresCpu / EVENTS,
    ratio_relay_to_raw_async: relayRate / perSecond(EVENTS, rawAsyncMs),
  });
  say(`ratio relay / raw async publish:        ${(relayRate / perSecond(EVENTS, rawAsyncMs)).toFixed(2)}× (target ≥ 0.5×)`);
  say(`ratio relay / best raw publish:         ${(relayRate / bestRaw).toFixed(2)}× (target ≥ 0.85×)`);
  say(`ratio relay / raw js.publish:           ${(relayRate / perSecond(EVENTS, rawJsMs)).toFixed(2)}×`);
  await stopChild(relay);
}

/** Commit → stream latency at a steady rate of single-event transactions, through a running relay. */
async function measureLatency(jsm: JetStreamManager, nc: NatsConnection, relayStreams: Streams) {
  const relay = await startRelay(relayStreams);
  const firstLatencySeq = (await jsm.streams.info(relayStreams.NATS_STREAM_EVENTS)).state.last_seq + 1;
  const stored = new Map<string, number>();
  const consumer = await jetstream(nc).consumers.get(relayStreams.NATS_STREAM_EVENTS, { opt_start_seq: firstLatencySeq });
  const messages = await consumer.consume({ max_messages: 2000 });
  const reading = (async () => {
    for await (const m of messages) {
      stored.set(m.headers?.get(EVENT_HEADERS.id) ?? '', Number(BigInt(m.info.timestampNanos) / 1000n) / 1000);
    }
  })();
  const committed = new Map<string, number>();
  const machineBefore = machineCpuTicks();
  const relayCpuBefore = processCpuMicros(relay.pid!);
  const producer = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/relay/producer.ts', databaseUrl, String(RATE), String(SECONDS), '2000'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.add(producer);
  createInterface({ input: producer.stdout! }).on('line', (line) => {
    const { id, committedAtMs } = JSON.parse(line) as { id: string; committedAtMs: number };
    committed.set(id, committedAtMs);
  });
  const producerExit = await new Promise<number | null>((resolve) => producer.once('exit', resolve));
  const machineAfter = machineCpuTicks();
  const relayCpu = processCpuMicros(relay.pid!) - relayCpuBefore;
  children.delete(producer);
  if (producerExit !== 0) throw new Error(`the producer exited with ${producerExit}`);
  await waitFor('every produced event in the stream', async () => [...committed.keys()].every((id) => stored.has(id)), 60_000, 50);
  await messages.close();
  await reading;
  // the first second is warm-up (connections, JIT); the steady state is what the target is about
  const firstCommit = Math.min(...committed.values());
  const producedMs = Math.max(...committed.values()) - firstCommit;
  const warmUpEnds = firstCommit + 1000;
  const latencies = [...committed]
    .filter(([, at]) => at >= warmUpEnds)
    .map(([id, at]) => stored.get(id)! - at)
    .sort((a, b) => a - b);
  say(
    `steady load: ${committed.size} events in ${(producedMs / 1000).toFixed(1)} s (${perSecond(committed.size, producedMs)} events/s achieved, one per transaction)`,
  );
  say(
    `commit → stream latency (${latencies.length} events after 1 s warm-up): p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
      `p90 ${percentile(latencies, 90).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms (target p99 ≤ 50 ms)`,
  );
  Object.assign(figures, {
    latency_rate: RATE,
    latency_achieved_rate: perSecond(committed.size, producedMs),
    latency_p50_ms: percentile(latencies, 50),
    latency_p99_ms: percentile(latencies, 99),
    latency_max_ms: latencies.at(-1)!,
  });
  const busy = machineAfter.busy - machineBefore.busy;
  const idle = machineAfter.idle - machineBefore.idle;
  say(
    `meanwhile: machine CPU ${Math.round((100 * idle) / (busy + idle))}% idle; relay process ${((relayCpu / 1000 / producedMs) * 100).toFixed(0)}% of one core ` +
      `(producer, Postgres, NATS and this reader share the same ${os.cpus().length} cores)`,
  );
  await stopChild(relay);
}

await main();
