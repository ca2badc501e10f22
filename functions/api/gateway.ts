// Builds the gateway's dependencies, once and in one place (config, database pool, authentication of tokens
// and access keys, the PEP's capability cache, readiness, live events, rate limiter, logger, error reporter), and turns a set of environment variables into a running
// gateway. Runtime-agnostic: the Deno entry files pass Deno.env and the migration file names in; Node tests and
// the benchmark do the same with process.env, or build the dependencies with createGatewayDeps.
import { createTokenVerifier, type TokenVerifier } from '../_shared/auth.ts';
import { loadConfig, type Config } from '../_shared/config.ts';
import { createDatabase, type Sql } from '../_shared/db.ts';
import { createFlagStore } from '../_shared/flags/store.ts';
import { createLogger, type Logger } from '../_shared/log.ts';
import type { GatewayMetrics } from '../_shared/metrics.ts';
import { rateLimiterFromConfig, type RateLimiter } from '../_shared/rate-limit.ts';
import { noErrorReporter, type ErrorReporter } from '../_shared/sentry.ts';
import { createApp, type App } from './app.ts';
import { createAccessKeyAuthenticator } from './core/access-key-auth.ts';
import type { GatewayDeps } from './core/context.ts';
import { createLiveHub, type LiveHub } from './core/live-hub.ts';
import { createCapabilityResolver } from './core/pep.ts';
import { createAuthenticator } from './core/principal.ts';
import { createReadinessCheck, newestMigrationVersion, type ReadinessCheck } from './core/readiness.ts';

/** What a caller supplies; everything left out is built from the configuration. */
export interface GatewayOptions {
  config: Config;
  sql: Sql;
  logger?: Logger;
  verifier?: TokenVerifier;
  readiness?: ReadinessCheck;
  /** Source of GET /api/live's events (default: NATS at NATS_URL, connected on first use). */
  live?: LiveHub;
  expectedMigration?: string | null;
  metrics?: GatewayMetrics;
  errorReporter?: ErrorReporter;
  /**
   * Default: built from the configuration (Upstash or REDIS_URL; connects on first use); null: no limits,
   * which is also the default when neither store is configured (local/test/dev only).
   */
  rateLimiter?: RateLimiter | null;
}

export function createGatewayDeps(options: GatewayOptions): GatewayDeps {
  const { config, sql } = options;
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL, base: { service: 'api', environment: config.APP_ENV } });
  const rateLimiter = options.rateLimiter === undefined ? rateLimiterFromConfig(config) : options.rateLimiter;
  if (!rateLimiter && !config.REDIS_URL && !config.UPSTASH_REDIS_REST_URL) {
    logger.warn('rate limits are off: neither UPSTASH_REDIS_REST_URL/TOKEN nor REDIS_URL is set');
  }
  const expectedMigration = options.expectedMigration ?? null;
  const verifier = options.verifier ?? createTokenVerifier(config);
  return {
    config,
    sql,
    logger,
    verifier,
    authenticator: createAuthenticator(verifier, createAccessKeyAuthenticator({ sql, config, logger })),
    capabilities: createCapabilityResolver(sql, config),
    readiness: options.readiness ?? createReadinessCheck(config, sql, expectedMigration, { logger, redis: rateLimiter }),
    live: options.live ?? createLiveHub(config, logger),
    errorReporter: options.errorReporter ?? noErrorReporter,
    rateLimiter,
    flags: createFlagStore(sql, { environment: config.APP_ENV, logger }),
    expectedMigration,
    metrics: options.metrics,
  };
}

/** Closes what createGatewayDeps opened: live events' NATS connection, the limiter's Redis, the flags' LISTEN, the pool (waits up to 5 s). */
export async function closeGatewayDeps(deps: GatewayDeps): Promise<void> {
  await deps.live.close();
  await deps.rateLimiter?.close();
  await deps.flags.close();
  await deps.sql.end({ timeout: 5 });
}

export interface Gateway {
  app: App;
  config: Config;
  sql: Sql;
  close(): Promise<void>;
}

/** What an entry file adds: metrics where something scrapes them, error reporting built from the config. */
export interface GatewayExtras {
  metrics?: GatewayMetrics;
  errorReporter?: (config: Config) => ErrorReporter;
}

export function buildGateway(
  environment: Record<string, string | undefined>,
  migrationFileNames: string[] | null,
  extras: GatewayExtras = {},
): Gateway {
  const config = loadConfig(environment);
  const sql = createDatabase(config);
  const deps = createGatewayDeps({
    config,
    sql,
    expectedMigration: migrationFileNames ? newestMigrationVersion(migrationFileNames) : null,
    metrics: extras.metrics,
    errorReporter: extras.errorReporter?.(config),
  });
  return { app: createApp(deps), config, sql, close: () => closeGatewayDeps(deps) };
}

const SUPABASE_FUNCTIONS_PREFIX = '/functions/v1';

/**
 * Serves the app both at /api/... and where Supabase puts the function, /functions/v1/api/..., so local
 * clients can use either base URL. The server's other arguments (Deno.serve's connection info, which the
 * rate limits read the client address from) pass through.
 */
export function withSupabasePaths<Rest extends unknown[]>(fetch: (request: Request, ...rest: Rest) => Response | Promise<Response>) {
  return (request: Request, ...rest: Rest): Response | Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === `${SUPABASE_FUNCTIONS_PREFIX}/api` || url.pathname.startsWith(`${SUPABASE_FUNCTIONS_PREFIX}/api/`)) {
      url.pathname = url.pathname.slice(SUPABASE_FUNCTIONS_PREFIX.length);
      return fetch(new Request(url, request), ...rest);
    }
    return fetch(request, ...rest);
  };
}
