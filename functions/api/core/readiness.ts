// Readiness: can this gateway serve traffic? Postgres answers, the schema is at the migration this code
// expects (the newest file in supabase/migrations), NATS and Redis answer. The NATS probe opens a short-lived
// connection (client loaded on first use so cold starts don't pay for it); Redis is pinged on the rate
// limiter's own connection when there is one. Every probe is bounded by a timeout, so /api/ready answers
// within a few seconds even when a dependency hangs, and a report is reused for READINESS_CACHE_MS, so a
// burst of probes (or of anonymous callers: the route is public) costs one check.
import type { Config } from '../../_shared/config.ts';
import type { Sql } from '../../_shared/db.ts';
import type { Logger } from '../../_shared/log.ts';

export type CheckName = 'database' | 'migrations' | 'nats' | 'redis';
export interface CheckResult {
  ok: boolean;
  /** Short and safe to show anyone: no addresses, versions or error text (those are in `detail`). */
  reason: string;
  /** The whole story, for the log and the platform admins' status page. */
  detail: string;
  duration_ms: number;
}
export interface ReadinessReport {
  ready: boolean;
  checks: Record<CheckName, CheckResult>;
}
export type ReadinessCheck = () => Promise<ReadinessReport>;

const PROBE_TIMEOUT_MS = 2500;
export const READINESS_CACHE_MS = 2000;

/** A failed probe whose public reason is more specific than "unreachable". */
class ProbeFailure extends Error {
  constructor(
    readonly reason: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

/** The version (timestamp prefix) of the newest migration file name, e.g. 20261127000200; null if none. */
export function newestMigrationVersion(fileNames: Iterable<string>): string | null {
  let newest: string | null = null;
  for (const name of fileNames) {
    const version = /^(\d{14})_.+\.sql$/.exec(name)?.[1];
    if (version && (newest === null || version > newest)) newest = version;
  }
  return newest;
}

/** host:port of a server URL, never its credentials. */
function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.host || url;
  } catch {
    return 'the configured address';
  }
}

async function timed(name: string, probe: () => Promise<string>): Promise<CheckResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProbeFailure('timed out', `${name} did not answer within ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    );
  });
  try {
    const detail = await Promise.race([probe(), timeout]);
    return { ok: true, reason: 'ok', detail, duration_ms: Math.round(performance.now() - started) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const reason = error instanceof ProbeFailure ? error.reason : 'unreachable';
    return { ok: false, reason, detail, duration_ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

async function probeDatabase(sql: Sql): Promise<string> {
  await sql`select 1`;
  return 'answered select 1';
}

async function probeMigrations(sql: Sql, expected: string | null): Promise<string> {
  if (!expected) {
    throw new ProbeFailure(
      'expected schema version unknown',
      'the gateway could not read supabase/migrations, so it does not know which schema version to expect',
    );
  }
  let applied: string | null;
  try {
    [{ applied = null } = { applied: null }] = await sql<{ applied: string | null }[]>`
      select max(version) as applied from supabase_migrations.schema_migrations`;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') {
      throw new ProbeFailure(
        'no migration ledger: run scripts/migrate.sh up',
        'no migration ledger in the database: run scripts/migrate.sh up',
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  if (applied !== expected) {
    throw applied && applied > expected
      ? new ProbeFailure(
          'schema newer than this gateway: deploy the matching gateway',
          `database is at ${applied}, newer than this gateway's ${expected}: deploy the gateway that matches the schema`,
        )
      : new ProbeFailure(
          'schema behind this gateway: run scripts/migrate.sh up',
          `database is at ${applied ?? 'no migration'}, the gateway expects ${expected}: run scripts/migrate.sh up`,
        );
  }
  return `schema at ${applied}`;
}

async function probeNats(config: Config): Promise<string> {
  const { connect } = await import('@nats-io/transport-node');
  const connection = await connect({
    servers: config.NATS_URL,
    user: config.NATS_USER,
    pass: config.NATS_PASSWORD,
    name: 'microdao-api-readiness',
    timeout: PROBE_TIMEOUT_MS,
    reconnect: false,
  });
  try {
    await connection.flush(); // a PING/PONG round trip: the server is serving, not just accepting sockets
    return `answered PING at ${endpointOf(config.NATS_URL)}`;
  } finally {
    await connection.close();
  }
}

/** Something that pings the Redis the gateway uses: the rate limiter's connection. */
export interface RedisPing {
  ping(): Promise<void>;
}

async function probeRedis(config: Config, shared: RedisPing | null): Promise<string> {
  if (shared) {
    await shared.ping();
    const where = config.UPSTASH_REDIS_REST_URL ?? config.REDIS_URL;
    return `answered PING at ${where ? endpointOf(where) : 'the configured address'} (the rate limiter's connection)`;
  }
  if (config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN) {
    const { Redis } = await import('@upstash/redis');
    const redis = new Redis({ url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN, retry: false });
    await redis.ping();
    return `answered PING at ${endpointOf(config.UPSTASH_REDIS_REST_URL)} (Upstash REST)`;
  }
  if (!config.REDIS_URL) throw new ProbeFailure('not configured', 'neither REDIS_URL nor UPSTASH_REDIS_REST_URL/TOKEN is set');
  const { Redis } = await import('ioredis');
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {}); // failures surface through connect()/ping(); without a listener they would crash
  try {
    await redis.connect();
    await redis.ping();
    return `answered PING at ${endpointOf(config.REDIS_URL)}`;
  } finally {
    redis.disconnect();
  }
}

export interface ReadinessOptions {
  /** Where failing checks are logged with their details. */
  logger?: Logger;
  /** Ping Redis through this connection instead of opening one per check. */
  redis?: RedisPing | null;
  /** How long a report is reused (default READINESS_CACHE_MS). */
  cacheMs?: number;
}

export function createReadinessCheck(
  config: Config,
  sql: Sql,
  expectedMigration: string | null,
  options: ReadinessOptions = {},
): ReadinessCheck {
  const cacheMs = options.cacheMs ?? READINESS_CACHE_MS;
  const check = async (): Promise<ReadinessReport> => {
    const [database, migrations, nats, redis] = await Promise.all([
      timed('Postgres', () => probeDatabase(sql)),
      timed('the migration ledger', () => probeMigrations(sql, expectedMigration)),
      timed('NATS', () => probeNats(config)),
      timed('Redis', () => probeRedis(config, options.redis ?? null)),
    ]);
    const checks = { database, migrations, nats, redis };
    const failing = Object.entries(checks).filter(([, result]) => !result.ok);
    if (failing.length) {
      options.logger?.warn('not ready', { checks: Object.fromEntries(failing.map(([name, result]) => [name, result.detail])) });
    }
    return { ready: failing.length === 0, checks };
  };
  // callers during a check share it; its report is reused until cacheMs after it finished
  let cached: { report: Promise<ReadinessReport>; until: number } | undefined;
  return () => {
    if (cached && performance.now() < cached.until) return cached.report;
    const entry = { report: check(), until: Number.POSITIVE_INFINITY };
    cached = entry;
    entry.report.then(
      () => (entry.until = performance.now() + cacheMs),
      () => (cached = cached === entry ? undefined : cached),
    );
    return entry.report;
  };
}
