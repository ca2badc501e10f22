// Turns a set of environment variables into a running gateway: config (refusing a bad one with every
// problem and its fix), database pool, rate limiter, app. Runtime-agnostic; the Deno entry files pass Deno.env and the
// migration file names in, Node tests and the benchmark can do the same with process.env.
import { loadConfig, type Config } from '../_shared/config.ts';
import { createDatabase, type Sql } from '../_shared/db.ts';
import { createLogger } from '../_shared/log.ts';
import type { GatewayMetrics } from '../_shared/metrics.ts';
import { rateLimiterFromConfig } from '../_shared/rate-limit.ts';
import type { ErrorReporter } from '../_shared/sentry.ts';
import { createApp, type App } from './app.ts';
import { createLiveHub } from './live-hub.ts';
import { newestMigrationVersion } from './readiness.ts';

export interface Gateway {
  app: App;
  config: Config;
  sql: Sql;
  /** Closes the live events' NATS connection, the rate limiter's Redis connection and the database pool (waits up to 5 s for running queries). */
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
  const live = createLiveHub(config, createLogger({ level: config.LOG_LEVEL, base: { service: 'api', environment: config.APP_ENV } }));
  const rateLimiter = rateLimiterFromConfig(config);
  const app = createApp({
    config,
    sql,
    live,
    rateLimiter,
    expectedMigration: migrationFileNames ? newestMigrationVersion(migrationFileNames) : null,
    metrics: extras.metrics,
    errorReporter: extras.errorReporter?.(config),
  });
  const close = async () => {
    await live.close();
    await rateLimiter?.close();
    await sql.end({ timeout: 5 });
  };
  return { app, config, sql, close };
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
