// Error reporting to Sentry, the same for every runtime: the entry file passes its SDK in (@sentry/deno in
// the gateway, @sentry/node in the workers; both expose this API), so this module imports none and runs on
// Deno and Node alike. Every event passes scrubSentryEvent before it leaves: no secrets, no request or
// message bodies, no event payloads — only what says where it broke (stack, route, ids, tags).
import type { Config } from './config.ts';
import { redactSecrets, redactText } from './redact.ts';

/** The part of a Sentry SDK the platform uses; @sentry/node and @sentry/deno both satisfy it. */
export interface SentrySdk {
  init(options: Record<string, unknown>): unknown;
  withScope(callback: (scope: { setTag(key: string, value: string): unknown }) => void): unknown;
  captureException(exception: unknown): string;
  flush(timeout?: number): PromiseLike<boolean>;
}

/** Where a failure happened: request_id or correlation_id, route, consumer, event_type. Tags are indexed
    and searchable in Sentry, and the same ids are on the JSON log lines. */
export type ErrorTags = Record<string, string | number | undefined>;

export interface ErrorReporter {
  /** Whether reports go anywhere (SENTRY_DSN set). */
  readonly enabled: boolean;
  report(error: unknown, tags?: ErrorTags): void;
  /** Waits until queued reports are sent (before a process exits or an edge isolate is frozen). */
  flush(timeoutMs?: number): Promise<boolean>;
}

export const noErrorReporter: ErrorReporter = { enabled: false, report: () => {}, flush: async () => true };

// Fields that may carry a request body, a message text or an event payload, wherever they appear.
const BODY_FIELD = /^(body|payload|data|detail|where|query|query_string|cookies|text)$/i;
// Request headers worth keeping: they say what called, never who or with what credentials.
const SAFE_HEADERS = new Set(['content-type', 'content-length', 'user-agent', 'x-request-id']);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function withoutBodyFields(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[Truncated]';
  if (Array.isArray(value)) return value.map((item) => withoutBodyFields(item, depth + 1));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !BODY_FIELD.test(key))
      .map(([key, item]) => [key, withoutBodyFields(item, depth + 1)]),
  );
}

/** What remains of an event for Sentry: credentials and secret values redacted, bodies and payloads gone. */
export function scrubSentryEvent<T>(event: T): T {
  const clean = redactSecrets(event) as Json;
  if (isObject(clean.request)) {
    const request = clean.request;
    const headers = isObject(request.headers) ? request.headers : {};
    clean.request = {
      method: request.method,
      url: typeof request.url === 'string' ? request.url.split('?')[0] : undefined,
      headers: Object.fromEntries(Object.entries(headers).filter(([name]) => SAFE_HEADERS.has(name.toLowerCase()))),
    };
  }
  for (const key of ['extra', 'contexts'] as const) if (clean[key] !== undefined) clean[key] = withoutBodyFields(clean[key]);
  if (isObject(clean.user)) clean.user = clean.user.id === undefined ? undefined : { id: clean.user.id };
  if (Array.isArray(clean.breadcrumbs)) clean.breadcrumbs = clean.breadcrumbs.map((crumb) => scrubSentryBreadcrumb(crumb)).filter(Boolean);
  // local variables of stack frames could hold anything
  const exceptions = isObject(clean.exception) && Array.isArray(clean.exception.values) ? clean.exception.values : [];
  for (const exception of exceptions) {
    const frames = isObject(exception) && isObject(exception.stacktrace) ? exception.stacktrace.frames : undefined;
    if (Array.isArray(frames)) for (const frame of frames) if (isObject(frame)) delete frame.vars;
  }
  return clean as T;
}

/** Console breadcrumbs repeat log lines (already in the log pipeline); others keep their message only. */
export function scrubSentryBreadcrumb<T>(breadcrumb: T): T | null {
  if (!isObject(breadcrumb) || breadcrumb.category === 'console') return null;
  const { data: _data, ...rest } = breadcrumb;
  return { ...rest, message: typeof rest.message === 'string' ? redactText(rest.message) : undefined } as T;
}

export interface ErrorReporterOptions {
  /** Tag on every event: api, outbox-relay, consumer-wallet, ... */
  service: string;
  /** Extra SDK options, e.g. `defaultIntegrations: false` on Deno, where scopes are not per request. */
  sdkOptions?: Record<string, unknown>;
  /** Receives the flush started after each report; an edge entry hands it to EdgeRuntime.waitUntil. */
  afterReport?: (flushing: Promise<boolean>) => void;
}

/** Initialises the SDK when SENTRY_DSN is set; without it, reports go nowhere and nothing is initialised. */
export function createErrorReporter(
  sdk: SentrySdk,
  config: Pick<Config, 'SENTRY_DSN' | 'APP_ENV'>,
  options: ErrorReporterOptions,
): ErrorReporter {
  if (!config.SENTRY_DSN) return noErrorReporter;
  sdk.init({
    dsn: config.SENTRY_DSN,
    environment: config.APP_ENV,
    initialScope: { tags: { service: options.service } },
    sendDefaultPii: false,
    tracesSampleRate: 0,
    beforeSend: scrubSentryEvent,
    beforeBreadcrumb: scrubSentryBreadcrumb,
    ...options.sdkOptions,
  });
  return {
    enabled: true,
    report(error, tags = {}) {
      // a scope per report: on Deno one isolate serves many requests, and tags must not leak between them
      sdk.withScope((scope) => {
        for (const [key, value] of Object.entries(tags)) if (value !== undefined) scope.setTag(key, String(value));
        sdk.captureException(error);
      });
      if (options.afterReport) options.afterReport(Promise.resolve(sdk.flush(2000)).then(Boolean));
    },
    flush: async (timeoutMs = 2000) => Boolean(await sdk.flush(timeoutMs)),
  };
}
