// Sentry for the Node workers: @sentry/node behind the platform's ErrorReporter (functions/_shared/sentry.ts),
// which scrubs every event. Uncaught exceptions and unhandled rejections are reported by the SDK's default
// integrations; handled failures go through reporter.report(error, { correlation_id, ... }).
import type { Config } from '../../functions/_shared/config.ts';
import { createErrorReporter, noErrorReporter, type ErrorReporter } from '../../functions/_shared/sentry.ts';

export async function createWorkerErrorReporter(config: Pick<Config, 'SENTRY_DSN' | 'APP_ENV'>, service: string): Promise<ErrorReporter> {
  if (!config.SENTRY_DSN) return noErrorReporter;
  // loaded only when used: the SDK takes most of a second to import
  const Sentry = await import('@sentry/node');
  return createErrorReporter(Sentry, config, { service });
}
