// Sentry for the Node workers: @sentry/node behind the platform's ErrorReporter (functions/_shared/sentry.ts),
// which scrubs every event. Uncaught exceptions and unhandled rejections are reported by the SDK's default
// integrations; handled failures go through an IncidentReporter, so an outage that fails every retry is one
// report, not one per retry.
import type { Config } from '../../functions/_shared/config.ts';
import { createErrorReporter, noErrorReporter, type ErrorReporter, type ErrorTags } from '../../functions/_shared/sentry.ts';

export async function createWorkerErrorReporter(config: Pick<Config, 'SENTRY_DSN' | 'APP_ENV'>, service: string): Promise<ErrorReporter> {
  if (!config.SENTRY_DSN) return noErrorReporter;
  // loaded only when used: the SDK takes most of a second to import
  const Sentry = await import('@sentry/node');
  return createErrorReporter(Sentry, config, { service });
}

/** How often a failure that goes on is reported again (default 10 minutes). */
export const INCIDENT_REPORT_INTERVAL_MS = 600_000;

/**
 * Reports failures that repeat — an outage every retry runs into, an event type whose handler is broken —
 * once when they start and then at most once per interval while they last. `recovered(key)` closes the
 * incident, so the next failure of that key is reported at once again. Keys are small fixed strings
 * (`claim`, `publish:nats_unavailable`, `handler_failed:<event type>`), never ids.
 */
export class IncidentReporter {
  private readonly lastReported = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly reporter: ErrorReporter,
    options: { intervalMs?: number; now?: () => number } = {},
  ) {
    this.intervalMs = options.intervalMs ?? INCIDENT_REPORT_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  /** Reports the failure unless this incident was reported within the interval; true when it was sent. */
  report(key: string, error: unknown, tags: ErrorTags = {}): boolean {
    const now = this.now();
    const last = this.lastReported.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.lastReported.set(key, now);
    this.reporter.report(error, { incident: key, ...tags });
    return true;
  }

  /** The incident is over; true when one was open. */
  recovered(key: string): boolean {
    return this.lastReported.delete(key);
  }
}
