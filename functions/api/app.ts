// The gateway app factory: installs, once, request id → JSON request log → CORS → rate limits → body-size
// limit, the 404 and error handlers, mounts one router per resource under /api, and serves the OpenAPI document
// generated from the same zod definitions. Its dependencies come built (gateway.ts); tests build the app the same way.
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { ConfigError, type Config, type ConfigProblem } from '../_shared/config.ts';
import { errorResponse, type GatewayDeps, type GatewayEnv } from './core/context.ts';
import { handleError } from './core/error-handler.ts';
import { metricsEndpoint, requestMetrics } from './core/request-metrics.ts';
import { requestLog } from './core/request-log.ts';
import { validationHook } from './core/route.ts';
import { rateLimit } from './core/rate-limit.ts';
import { adminRoutes } from './admin/admin.routes.ts';
import { agentRoutes } from './agents/agents.routes.ts';
import { runRoutes } from './agents/runs.routes.ts';
import { channelRoutes } from './messaging/channels.routes.ts';
import { devLoginRoutes } from './auth/dev-login.routes.ts';
import { healthRoutes, openApiDocumentRoute } from './ops/health.routes.ts';
import { flagRoutes } from './flags/flags.routes.ts';
import { grantRoutes } from './access/grants.routes.ts';
import { keyRoutes } from './access/keys.routes.ts';
import { meRoutes } from './access/me.routes.ts';
import { invitationRoutes } from './messaging/invitations.routes.ts';
import { liveRoutes } from './messaging/live.routes.ts';
import { messageRoutes } from './messaging/messages.routes.ts';
import { governanceRoutes } from './governance/governance.routes.ts';
import { projectRoutes } from './projects/projects.routes.ts';
import { taskRoutes } from './projects/tasks.routes.ts';
import { teamRoutes } from './messaging/teams.routes.ts';
import { embassyAdminRoutes } from './embassy/admin.routes.ts';
import { rwaRoutes } from './embassy/inventory.routes.ts';
import { embassyWebhookRoutes } from './embassy/webhooks.routes.ts';
import { fileRoutes } from './storage/files.routes.ts';
import { creditRoutes } from './wallet/credits.routes.ts';
import { giftRoutes } from './gifts/gifts.routes.ts';
import { payoutRoutes } from './wallet/payouts.routes.ts';
import { safeRoutes } from './wallet/safe.routes.ts';
import { tokenRoutes } from './wallet/tokens.routes.ts';
import { adminPayoutRoutes } from './admin/payouts.routes.ts';

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

export function createApp(deps: GatewayDeps) {
  const { config, metrics } = deps;
  assertStartable(config);

  // middleware on the root covers every path, /api or not, so even a stray 404 has a request id and a log line
  const root = new OpenAPIHono<GatewayEnv>({ defaultHook: validationHook });
  // registered before the middleware, so a scrape is neither logged nor counted
  if (metrics) root.get('/metrics', metricsEndpoint(metrics));
  root.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  if (metrics) root.use('*', requestMetrics(metrics));
  root.use('*', requestId({ headerName: 'X-Request-ID', limitLength: 128 }));
  root.use('*', requestLog());
  root.use(
    '*',
    cors({
      origin: config.WEB_ORIGINS,
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'X-Request-ID', 'Idempotency-Key'],
      exposeHeaders: [
        'X-Request-ID',
        'Idempotent-Replayed',
        'Retry-After',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'RateLimit-Policy',
      ],
      maxAge: 600,
    }),
  );
  // after CORS, so a browser can read a 429; before the body is read, so a refused request costs no parsing
  root.use('*', rateLimit(deps.rateLimiter));
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
    .route('/', meRoutes)
    .route('/', grantRoutes)
    .route('/', keyRoutes)
    .route('/', flagRoutes)
    .route('/teams', teamRoutes)
    .route('/', invitationRoutes)
    .route('/channels', channelRoutes)
    .route('/messages', messageRoutes)
    .route('/live', liveRoutes)
    .route('/agents', agentRoutes)
    .route('/agent-runs', runRoutes)
    .route('/embassy', embassyWebhookRoutes)
    .route('/teams', rwaRoutes)
    .route('/projects', projectRoutes)
    .route('/tasks', taskRoutes)
    .route('/governance', governanceRoutes)
    .route('/files', fileRoutes)
    .route('/', payoutRoutes)
    .route('/', safeRoutes)
    .route('/', creditRoutes)
    .route('/', tokenRoutes)
    .route('/gifts', giftRoutes)
    .route('/admin', adminRoutes)
    .route('/admin', adminPayoutRoutes)
    .route('/admin/embassy', embassyAdminRoutes);
  if (devLoginMounted(config)) app.route('/auth', devLoginRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The access_token of a Supabase Auth session',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'accessKey', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'mdao_<env>_<random>_<checksum>',
    description: 'An access key of an agent or integration (created by a team admin, shown once)',
  });
  const generated: { document?: ReturnType<typeof app.getOpenAPIDocument> } = {};
  app.openapi(openApiDocumentRoute, (c) => c.json(generated.document!, 200));
  // generated once at start-up, after its own route is in: a schema the generator cannot describe fails here
  generated.document = app.getOpenAPIDocument({
    openapi: '3.0.3',
    info: {
      title: 'MicroDAO API',
      version: deps.expectedMigration ?? 'unversioned',
      description: 'Every route declares the capability it needs (x-capability) or that it is public (x-public).',
    },
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
/** The typed client of the web apps: `hc<AppType>(baseUrl)` from hono/client. */
export type AppType = App;
