// The gateway as Supabase's Edge Runtime runs it, for both deployed functions: "api" (functions/api/index.ts)
// and "api-canary" (functions/api/canary.ts), the next release deployed beside it while a canary runs
// (scripts/canary.sh). A bad configuration throws here, so the function refuses to boot and the problems land
// in its logs.
import * as Sentry from '@sentry/deno';
import { createGatewayMetrics } from '../_shared/metrics.ts';
import { createErrorReporter } from '../_shared/sentry.ts';
import { metricsPusherFor, withMetricsPush } from './core/metrics-push.ts';
import { buildGateway } from './gateway.ts';

export interface EdgeFunctionOptions {
  /** The function's name when it is not "api": Supabase hands it /<name>/…, the gateway's routes are /api/…. */
  functionName?: string;
  /** The variable holding this function's `release` label (default RELEASE). */
  releaseVariable?: 'RELEASE' | 'CANARY_RELEASE';
}

function migrationFileNames(): string[] | null {
  try {
    // bundled with the function through static_files in supabase/config.toml
    return [...Deno.readDirSync(new URL('../../supabase/migrations/', import.meta.url))].map((entry) => entry.name);
  } catch {
    return null; // /api/ready then reports that the expected schema version is unknown
  }
}

export function serveEdgeFunction(options: EdgeFunctionOptions = {}): void {
  const variables = Deno.env.toObject();
  const releaseVariable = options.releaseVariable ?? 'RELEASE';
  // an isolate serves many requests: no default integrations (their scope is global), a scope per report,
  // and the report sent before the isolate may be frozen
  const edgeRuntime = (globalThis as { EdgeRuntime?: { waitUntil(promise: Promise<unknown>): void } }).EdgeRuntime;
  // nothing scrapes an isolate: its request metrics are pushed after each response when METRICS_PUSH_URL is set
  const metrics = createGatewayMetrics();
  const gateway = buildGateway({ ...variables, RELEASE: variables[releaseVariable] }, migrationFileNames(), {
    metrics,
    errorReporter: (config) =>
      createErrorReporter(Sentry, config, {
        service: 'api',
        sdkOptions: { defaultIntegrations: false },
        afterReport: (flushing) => edgeRuntime?.waitUntil(flushing),
      }),
  });
  const pusher = metricsPusherFor(gateway.config, metrics, edgeRuntime && ((promise) => edgeRuntime.waitUntil(promise)));
  const served = withMetricsPush(gateway.app.fetch, pusher);
  const prefix = options.functionName ? `/${options.functionName}` : '';
  Deno.serve(prefix ? (request) => served(asApiPath(request, prefix)) : served);
}

/** The request as the gateway's routes expect it: /<function>/x → /api/x. */
function asApiPath(request: Request, prefix: string): Request {
  const url = new URL(request.url);
  if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return request;
  url.pathname = `/api${url.pathname.slice(prefix.length)}`;
  return new Request(url, request);
}
