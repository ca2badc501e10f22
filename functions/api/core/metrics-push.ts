// Request metrics leaving the Edge Function: nothing can scrape an isolate, and no timer outlives a request
// there, so after each response the gateway pushes what changed since its last push (OTLP/HTTP JSON, delta
// temporality: functions/_shared/otlp-metrics.ts) to METRICS_PUSH_URL, inside EdgeRuntime.waitUntil so the
// isolate stays up until the push is done. Requests finishing while a push is on its way share the next one,
// sent at most every minIntervalMs. A failed push is not lost: the baseline moves only when the receiver said
// 200, so the next push carries the change again (pushes are serial, so nothing is counted twice — except when
// a 200 itself is lost on the way back).
import type { Config } from '../../_shared/config.ts';
import { createLogger, type Logger } from '../../_shared/log.ts';
import type { GatewayMetrics } from '../../_shared/metrics.ts';
import { deltaRequest, ENVIRONMENT_ATTRIBUTE, snapshotOf, type RegistrySnapshot } from '../../_shared/otlp-metrics.ts';

export interface MetricsPushOptions {
  metrics: GatewayMetrics;
  url: string;
  token: string;
  environment: string;
  /** EdgeRuntime.waitUntil: keeps the isolate alive until the promise settles (absent: fire and forget). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Least time between two pushes of one isolate (default 1000 ms). */
  minIntervalMs?: number;
  /** Give up on one push after this long (default 5000 ms); its change goes with the next. */
  timeoutMs?: number;
  logger?: Logger;
  fetch?: typeof fetch;
}

export interface MetricsPusher {
  /** Call after each response: schedules the push that will carry this request. */
  requestFinished(): void;
  /** Pushes what is pending now (tests, shutdown). */
  flush(): Promise<void>;
}

const nowUnixNano = () => BigInt(Date.now()) * 1_000_000n;

export function createMetricsPusher(options: MetricsPushOptions): MetricsPusher {
  const minIntervalMs = options.minIntervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const send = options.fetch ?? fetch;
  const logger = options.logger ?? createLogger({ level: 'info', base: { service: 'api', component: 'metrics-push' } });
  // one id per isolate: lets a receiver tell the writers apart (OTLP's single-writer rule for delta streams)
  const resource = {
    'service.name': 'microdao-api',
    'service.instance.id': crypto.randomUUID(),
    [ENVIRONMENT_ATTRIBUTE]: options.environment,
  };
  let baseline: RegistrySnapshot = new Map();
  let windowStart = nowUnixNano();
  let lastPushAt = 0;
  let failing = false;
  let inFlight: Promise<void> | undefined;
  let scheduled: Promise<void> | undefined;

  async function pushOnce(): Promise<void> {
    const current = await snapshotOf(options.metrics.registry);
    const end = nowUnixNano();
    const body = deltaRequest(baseline, current, { resource, startUnixNano: windowStart, endUnixNano: end });
    lastPushAt = Date.now();
    if (!body) return;
    try {
      const response = await send(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const answer = await response.text();
      if (!response.ok) throw new Error(`the receiver answered ${response.status}: ${answer.slice(0, 200)}`);
      baseline = current;
      windowStart = end;
      if (failing) logger.info('metrics push works again');
      failing = false;
    } catch (error) {
      // logged once per outage, not per request: the change is kept for the next push
      if (!failing) logger.warn('metrics push failed; the next push carries this change again', { error: (error as Error).message });
      failing = true;
    }
  }

  function schedule(): Promise<void> {
    scheduled ??= (async () => {
      await inFlight;
      const wait = lastPushAt + minIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // from here on, a request that finishes needs the push after this one
      scheduled = undefined;
      inFlight = pushOnce();
      await inFlight;
    })();
    return scheduled;
  }

  return {
    requestFinished() {
      const push = schedule();
      if (options.waitUntil) options.waitUntil(push);
      else void push;
    },
    flush: () => schedule(),
  };
}

/** The pusher a configuration asks for: none unless METRICS_PUSH_URL and METRICS_PUSH_TOKEN are set. */
export function metricsPusherFor(
  config: Pick<Config, 'METRICS_PUSH_URL' | 'METRICS_PUSH_TOKEN' | 'APP_ENV' | 'LOG_LEVEL'>,
  metrics: GatewayMetrics,
  waitUntil?: (promise: Promise<unknown>) => void,
): MetricsPusher | undefined {
  if (!config.METRICS_PUSH_URL || !config.METRICS_PUSH_TOKEN) return undefined;
  return createMetricsPusher({
    metrics,
    url: config.METRICS_PUSH_URL,
    token: config.METRICS_PUSH_TOKEN,
    environment: config.APP_ENV,
    waitUntil,
    logger: createLogger({ level: config.LOG_LEVEL, base: { service: 'api', environment: config.APP_ENV, component: 'metrics-push' } }),
  });
}

/** Wraps the app's fetch so each finished response schedules a push. */
export function withMetricsPush<Rest extends unknown[]>(
  handler: (request: Request, ...rest: Rest) => Response | Promise<Response>,
  pusher: MetricsPusher | undefined,
): (request: Request, ...rest: Rest) => Promise<Response> {
  return async (request, ...rest) => {
    const response = await handler(request, ...rest);
    pusher?.requestFinished();
    return response;
  };
}
