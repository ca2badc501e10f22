// Supabase Edge Function "api" (supabase/config.toml): the gateway as Supabase's Edge Runtime runs it.
// A bad configuration throws here, so the function refuses to boot and the problems land in its logs.
import * as Sentry from '@sentry/deno';
import { createGatewayMetrics } from '../_shared/metrics.ts';
import { createErrorReporter } from '../_shared/sentry.ts';
import { metricsPusherFor, withMetricsPush } from './core/metrics-push.ts';
import { buildGateway } from './gateway.ts';

function migrationFileNames(): string[] | null {
  try {
    // bundled with the function through static_files in supabase/config.toml
    return [...Deno.readDirSync(new URL('../../supabase/migrations/', import.meta.url))].map((entry) => entry.name);
  } catch {
    return null; // /api/ready then reports that the expected schema version is unknown
  }
}

// an isolate serves many requests: no default integrations (their scope is global), a scope per report,
// and the report sent before the isolate may be frozen
const edgeRuntime = (globalThis as { EdgeRuntime?: { waitUntil(promise: Promise<unknown>): void } }).EdgeRuntime;
// nothing scrapes an isolate: its request metrics are pushed after each response when METRICS_PUSH_URL is set
const metrics = createGatewayMetrics();
const gateway = buildGateway(Deno.env.toObject(), migrationFileNames(), {
  metrics,
  errorReporter: (config) =>
    createErrorReporter(Sentry, config, {
      service: 'api',
      sdkOptions: { defaultIntegrations: false },
      afterReport: (flushing) => edgeRuntime?.waitUntil(flushing),
    }),
});
const pusher = metricsPusherFor(gateway.config, metrics, edgeRuntime && ((promise) => edgeRuntime.waitUntil(promise)));
Deno.serve(withMetricsPush(gateway.app.fetch, pusher));
