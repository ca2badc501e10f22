// Serves the gateway on API_HOST:API_PORT (default 127.0.0.1:54321) for local development, at /api/... and
// at /functions/v1/api/... (where Supabase serves the function). Run:
//   deno run --allow-net --allow-env --allow-read --allow-sys functions/api/serve-local.ts
import * as Sentry from '@sentry/deno';
import { ConfigError, formatConfigProblems } from '../_shared/config.ts';
import { createGatewayMetrics } from '../_shared/metrics.ts';
import { createErrorReporter } from '../_shared/sentry.ts';
import { buildGateway, withSupabasePaths, type Gateway } from './gateway.ts';

const migrationsDirectory = new URL('../../supabase/migrations/', import.meta.url);

let gateway: Gateway;
try {
  const names = [...Deno.readDirSync(migrationsDirectory)].map((entry) => entry.name);
  // a served process is scraped at /metrics; Sentry's default integrations assume one request per process
  gateway = buildGateway(Deno.env.toObject(), names, {
    metrics: createGatewayMetrics(),
    errorReporter: (config) => createErrorReporter(Sentry, config, { service: 'api', sdkOptions: { defaultIntegrations: false } }),
  });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`api: refusing to start, the configuration is invalid:\n${formatConfigProblems(error.problems)}`);
  } else {
    console.error(`api: could not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  Deno.exit(1);
}

const { API_HOST: hostname, API_PORT: port } = gateway.config;
const server = Deno.serve(
  {
    hostname,
    port,
    onListen: () =>
      console.log(
        JSON.stringify({
          level: 'info',
          msg: 'api listening',
          url: `http://${hostname}:${port}/api`,
          also: `http://${hostname}:${port}/functions/v1/api`,
        }),
      ),
  },
  withSupabasePaths(gateway.app.fetch),
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, async () => {
    await server.shutdown();
    await gateway.close();
    Deno.exit(0);
  });
}
