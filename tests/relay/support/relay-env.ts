// What relay tests share: database settings from a test database URL, fresh stream names and subject
// prefixes, in-process relays, relays as real processes (main.ts), and waiting for conditions.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { DatabaseSettings } from '../../../functions/_shared/db.ts';
import { streamDefinitions } from '../../../functions/_shared/events/streams.ts';
import { createLogger, type LogRecord } from '../../../functions/_shared/log.ts';
import { uniqueName } from '../../harness/services.ts';
import { ensureStreams } from '../../../workers/lib/streams.ts';
import type { RelayHooks } from '../../../workers/outbox-relay/hooks.ts';
import { OutboxRelay, type OutboxRelayOptions } from '../../../workers/outbox-relay/relay.ts';
import type { Sql } from '../../harness/database.ts';

export function databaseSettings(url: string): DatabaseSettings {
  const parsed = new URL(url);
  return {
    DB_HOST: parsed.hostname,
    DB_PORT: Number(parsed.port || 5432),
    DB_NAME: decodeURIComponent(parsed.pathname.slice(1)),
    DB_USER: decodeURIComponent(parsed.username) || 'postgres',
    DB_PASSWORD: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    DB_SSLMODE: 'disable',
    DB_POOL_MAX: 4,
  };
}

/** A fresh stream name and subject prefix, so a test never sees another stream's messages. */
export function freshStreams() {
  const name = uniqueName('relay');
  return { APP_ENV: 'test' as const, NATS_STREAM_EVENTS: name.toUpperCase(), NATS_SUBJECT_PREFIX: name };
}
export type StreamSettings = ReturnType<typeof freshStreams>;

export async function connectJetStream(url: string): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200, name: 'relay-test' });
  return { nc, jsm: await jetstreamManager(nc, { checkAPI: false }) };
}

export async function provision(jsm: JetStreamManager, streams: StreamSettings): Promise<void> {
  await ensureStreams(jsm, streamDefinitions(streams));
}

export async function deleteStreams(jsm: JetStreamManager, streams: StreamSettings): Promise<void> {
  for (const { name } of streamDefinitions(streams)) await jsm.streams.delete(name).catch(() => {});
}

/** Test-speed defaults: short polls, backoffs and lease ticks. */
export const FAST_RELAY = {
  batchSize: 200,
  pollIntervalMs: 200,
  publishTimeoutMs: 1000,
  maxAttempts: 3,
  backoffBaseMs: 50,
  backoffMaxMs: 500,
  leaseIntervalMs: 200,
  retentionHours: 0,
};

export interface InProcessRelay {
  relay: OutboxRelay;
  logs: LogRecord[];
  stop(): Promise<void>;
}

/** A relay in this process, on its own NATS connection (closed by stop()). */
export async function startRelay(
  database: DatabaseSettings,
  natsUrl: string,
  streams: StreamSettings,
  overrides: Partial<OutboxRelayOptions> & { hooks?: RelayHooks } = {},
): Promise<InProcessRelay> {
  const { nc, jsm } = await connectJetStream(natsUrl);
  const logs: LogRecord[] = [];
  const relay = new OutboxRelay({
    database,
    nc,
    jsm,
    subjectPrefix: streams.NATS_SUBJECT_PREFIX,
    ...FAST_RELAY,
    logger: createLogger({ level: 'debug', sink: (line) => logs.push(JSON.parse(line) as LogRecord) }),
    ...overrides,
  });
  await relay.start();
  return {
    relay,
    logs,
    async stop() {
      await relay.stop();
      await nc.close();
    },
  };
}

export interface RelayProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** A worker as it runs in production: `node --import tsx <entry>`, configured by env only (no .env file), on
    `database` and `streams`, with its own /metrics port (a clash is only logged, but stays out of everyone's way). */
export function spawnWorker(
  entry: string,
  database: DatabaseSettings,
  natsUrl: string,
  streams: StreamSettings,
  env: Record<string, string> = {},
): RelayProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: {
      PATH: process.env.PATH,
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'test',
      LOG_LEVEL: 'info',
      DB_HOST: database.DB_HOST,
      DB_PORT: String(database.DB_PORT),
      DB_NAME: database.DB_NAME,
      DB_USER: database.DB_USER,
      DB_PASSWORD: database.DB_PASSWORD ?? '',
      NATS_URL: natsUrl,
      NATS_STREAM_EVENTS: streams.NATS_STREAM_EVENTS,
      NATS_SUBJECT_PREFIX: streams.NATS_SUBJECT_PREFIX,
      METRICS_PORT: String(20_000 + Math.floor(Math.random() * 40_000)),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { child, lines, exited };
}

/** The relay as it runs in production, with the test's short intervals. */
export const spawnRelay = (database: DatabaseSettings, natsUrl: string, streams: StreamSettings, env: Record<string, string> = {}) =>
  spawnWorker('workers/outbox-relay/main.ts', database, natsUrl, streams, {
    OUTBOX_RELAY_BATCH_SIZE: '200',
    OUTBOX_RELAY_POLL_INTERVAL_MS: '200',
    OUTBOX_RELAY_PUBLISH_TIMEOUT_MS: '1000',
    OUTBOX_RELAY_BACKOFF_BASE_MS: '50',
    OUTBOX_RELAY_BACKOFF_MAX_MS: '500',
    OUTBOX_RELAY_LEASE_INTERVAL_MS: '200',
    ...env,
  });

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const relayStarted = (relay: RelayProcess) => relay.lines.some((line) => line.includes('"relay started"'));

/** Enqueues one event through app.enqueue_event (the producers' path); returns its id. */
export async function enqueue(
  sql: Sql | import('postgres').TransactionSql,
  event: { type: string; aggregateType?: string; aggregateId: string; payload: unknown; correlationId?: string },
): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    select app.enqueue_event(${event.type}, ${event.aggregateType ?? event.type.split('.')[0]!}, ${event.aggregateId},
      ${sql.json(event.payload as import('postgres').JSONValue)}::jsonb, ${event.correlationId ?? null}) as id`;
  return row!.id;
}

export async function backlog(sql: Sql): Promise<number> {
  const [row] = await sql<
    { n: number }[]
  >`select count(*)::int as n from public.outbox_events where not processed and dead_lettered_at is null`;
  return row!.n;
}
