// The gateway app factory: installs, once, request id → JSON request log → CORS → rate limits → body-size
// limit, the 404 and error handlers, mounts one router per resource under /api, and serves the OpenAPI document
// generated from the same zod definitions. Tests build the app through this same function.
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { createTokenVerifier, type TokenVerifier } from '../_shared/auth.ts';
import { ConfigError, type Config, type ConfigProblem } from '../_shared/config.ts';
import type { Sql } from '../_shared/db.ts';
import { createLogger, type Logger } from '../_shared/log.ts';
import type { GatewayMetrics } from '../_shared/metrics.ts';
import { rateLimiterFromConfig, type RateLimiter } from '../_shared/rate-limit.ts';
import { noErrorReporter, type ErrorReporter } from '../_shared/sentry.ts';
import { errorResponse, type GatewayDeps, type GatewayEnv } from './context.ts';
import { handleError } from './error-handler.ts';
import { createLiveHub, type LiveHub } from './live-hub.ts';
import { metricsEndpoint, requestMetrics } from './metrics.ts';
import { requestLog } from './middleware.ts';
import { validationHook } from './openapi.ts';
import { rateLimit } from './rate-limit.ts';
import { createReadinessCheck, type ReadinessCheck } from './readiness.ts';
import { adminRoutes } from './routes/admin.ts';
import { channelRoutes } from './routes/channels.ts';
import { devLoginRoutes } from './routes/dev-login.ts';
import { healthRoutes } from './routes/health.ts';
import { liveRoutes } from './routes/live.ts';
import { messageRoutes } from './routes/messages.ts';
import { teamRoutes } from './routes/teams.ts';

export interface AppOptions {
  config: Config;
  sql: Sql;
  logger?: Logger;
  verifier?: TokenVerifier;
  readiness?: ReadinessCheck;
  /** Source of GET /api/live's events (default: NATS at NATS_URL, connected on first use). */
  live?: LiveHub;
  /** Newest migration version this code expects (see newestMigrationVersion); /api/ready compares it. */
  expectedMigration?: string | null;
  /** Request metrics, served at GET /metrics (local and self-hosted only: an edge isolate is not scraped). */
  metrics?: GatewayMetrics;
  /** Where 500s are reported (default: nowhere). */
  errorReporter?: ErrorReporter;
  /**
   * Counts requests against RATE_LIMIT_GLOBAL and RATE_LIMIT_PER_KEY. Default: built from the configuration
   * (Upstash or REDIS_URL; connects on first use, and whoever builds the app closes it: see buildGateway);
   * null: no limits, which is also the default when neither store is configured (local/test/dev only).
   */
  rateLimiter?: RateLimiter | null;
}

/** Whether this configuration mounts POST /api/auth/dev-login. */
export const devLoginMounted = (config: Config): boolean =>
  config.DEV_LOGIN_ENABLED && (config.APP_ENV === 'local' || config.APP_ENV === 'test');

/** Refuses configurations the gateway must not start with, even if they bypassed loadConfig. */
function assertStartable(config: Config): void {
  const problems: ConfigProblem[] = [];
  if (config.DEV_LOGIN_ENABLED && !devLoginMounted(config)) {
    problems.push({
      variable: 'DEV_LOGIN_ENABLED',
      problem: `the dev login mints tokens without a password and cannot run in ${config.APP_ENV}`,
      fix: 'remove DEV_LOGIN_ENABLED or set it to false',
    });
  }
  if (devLoginMounted(config) && !config.JWT_SECRET) {
    problems.push({
      variable: 'JWT_SECRET',
      problem: 'the dev login signs its tokens with JWT_SECRET, which is not set',
      fix: 'set JWT_SECRET',
    });
  }
  if (problems.length) throw new ConfigError(problems);
}

export function createApp(options: AppOptions) {
  const { config, sql } = options;
  assertStartable(config);
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL, base: { service: 'api', environment: config.APP_ENV } });
  const rateLimiter = options.rateLimiter === undefined ? rateLimiterFromConfig(config) : options.rateLimiter;
  if (!rateLimiter && !config.REDIS_URL && !config.UPSTASH_REDIS_REST_URL) {
    logger.warn('rate limits are off: neither UPSTASH_REDIS_REST_URL/TOKEN nor REDIS_URL is set');
  }
  const deps: GatewayDeps = {
    config,
    sql,
    logger,
    verifier: options.verifier ?? createTokenVerifier(config),
    readiness: options.readiness ?? createReadinessCheck(config, sql, options.expectedMigration ?? null, { logger, redis: rateLimiter }),
    live: options.live ?? createLiveHub(config, logger),
    errorReporter: options.errorReporter ?? noErrorReporter,
  };

  // middleware on the root covers every path, /api or not, so even a stray 404 has a request id and a log line
  const root = new OpenAPIHono<GatewayEnv>({ defaultHook: validationHook });
  // registered before the middleware, so a scrape is neither logged nor counted
  if (options.metrics) root.get('/metrics', metricsEndpoint(options.metrics));
  root.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  if (options.metrics) root.use('*', requestMetrics(options.metrics));
  root.use('*', requestId({ headerName: 'X-Request-ID', limitLength: 128 }));
  root.use('*', requestLog());
  root.use(
    '*',
    cors({
      origin: config.WEB_ORIGINS,
      allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'X-Request-ID'],
      exposeHeaders: ['X-Request-ID', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy'],
      maxAge: 600,
    }),
  );
  // after CORS, so a browser can read a 429; before the body is read, so a refused request costs no parsing
  root.use('*', rateLimit(rateLimiter));
  root.use(
    '*',
    bodyLimit({
      maxSize: config.BODY_LIMIT_BYTES,
      onError: (c) =>
        errorResponse(c, 413, 'body_too_large', `The request body is larger than ${config.BODY_LIMIT_BYTES} bytes; send less.`),
    }),
  );

  const api = root.basePath('/api');
  api.notFound((c) =>
    errorResponse(c, 404, 'route_not_found', `There is no ${c.req.method} ${c.req.path}; the routes are listed at /api/openapi.json.`),
  );
  api.onError(handleError);

  const app = api
    .route('/', healthRoutes)
    .route('/teams', teamRoutes)
    .route('/channels', channelRoutes)
    .route('/messages', messageRoutes)
    .route('/live', liveRoutes)
    .route('/admin', adminRoutes);
  if (devLoginMounted(config)) app.route('/auth', devLoginRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The access_token of a Supabase Auth session',
  });
  // generated once at start-up: a schema the generator cannot describe fails here, not on a request
  const document = app.getOpenAPIDocument({
    openapi: '3.0.3',
    info: { title: 'MicroDAO API', version: options.expectedMigration ?? 'unversioned', description: 'Teams, channels and messages.' },
  });
  app.get('/openapi.json', (c) => c.json(document, 200));

  return app;
}

export type App = ReturnType<typeof createApp>;
/** The typed client of the web apps: `hc<AppType>(baseUrl)` from hono/client. */
export type AppType = App;
