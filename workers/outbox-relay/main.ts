// Entry point: `node --import tsx workers/outbox-relay/main.ts` (npm run outbox:relay). Provisions the event
// streams, then relays the outbox to JetStream until SIGTERM/SIGINT, which lets the batches in flight finish.
// Run as many as you like side by side: they share the outbox lanes (README.md in this folder).
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { streamDefinitions } from '../../functions/_shared/events/streams.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { serveMetrics } from '../lib/metrics-server.ts';
import { connectNats } from '../lib/nats.ts';
import { connectWorkerDatabase } from '../lib/postgres.ts';
import { createWorkerErrorReporter, IncidentReporter } from '../lib/sentry.ts';
import { ensureStreams } from '../lib/streams.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../lib/worker-config.ts';
import { createOutboxRelayMetrics, relayMetricsHooks } from './metrics.ts';
import { OutboxRelay } from './relay.ts';

const config = loadWorkerConfig('outbox-relay', process.env, WORKER_VARIABLES.relay);
const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'outbox-relay', pid: process.pid } });

// Sentry (uncaught errors, and the relay's failures: see OutboxRelay's reporter) and /metrics on
// METRICS_HOST:METRICS_PORT; the outbox gauges read their own pool
const reporter = await createWorkerErrorReporter(config, 'outbox-relay');
const startupIncidents = new IncidentReporter(reporter);
const metricsSql = connectWorkerDatabase(config, { applicationName: 'microdao-outbox-relay-metrics', max: 1 });
const metrics = createOutboxRelayMetrics(metricsSql);
const metricsServer = await serveMetrics(metrics.registry, { host: config.METRICS_HOST, port: config.METRICS_PORT }).catch(
  (error: Error) => {
    logger.error('metrics not served; relaying anyway', { error: error.message, fix: 'give each relay on a host its own METRICS_PORT' });
    return undefined;
  },
);

// filled in as start-up proceeds; a signal may arrive at any point of it
const running: { relay?: OutboxRelay; nc?: NatsConnection } = {};
let stopping = false;

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) {
      logger.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('stopping: finishing the batches in flight', { signal });
    void shutdown();
  });
}

async function shutdown(): Promise<void> {
  await running.relay?.stop();
  await running.nc?.drain().catch(() => {});
  await metricsServer?.close();
  await metricsSql.end({ timeout: 5 });
  await reporter.flush(2000);
  process.exit(0);
}

/** Retries a start-up step (server not up yet) until it works or the process is told to stop. */
async function untilItWorks<T>(what: string, step: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      if (stopping) throw error;
      const delay = Math.min(config.OUTBOX_RELAY_BACKOFF_MAX_MS, config.OUTBOX_RELAY_BACKOFF_BASE_MS * 2 ** attempt);
      logger.warn(`could not ${what}; retrying`, { error: (error as Error).message, retry_in_ms: delay });
      startupIncidents.report(`start:${what}`, error, { stage: 'start' });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

const nc = await connectNats(config, { name: 'microdao-outbox-relay' });
running.nc = nc;
void nc.closed().then((error) => {
  if (stopping) return;
  // the client reconnects forever, so a close means it was refused for good (e.g. credentials): let the
  // supervisor restart the process rather than relay into nothing
  logger.error('NATS connection closed; exiting', { error: error instanceof Error ? error.message : undefined });
  reporter.report(error ?? new Error('the NATS connection closed for good'), { stage: 'nats' });
  void reporter.flush(2000).then(() => process.exit(1));
});
const jsm = await jetstreamManager(nc, { checkAPI: false });
const provisioned = await untilItWorks('provision the event streams', () => ensureStreams(jsm, streamDefinitions(config)));
logger.info('event streams ready', { streams: provisioned, subject_prefix: config.NATS_SUBJECT_PREFIX });

const candidate = new OutboxRelay({
  database: config,
  nc,
  jsm,
  subjectPrefix: config.NATS_SUBJECT_PREFIX,
  batchSize: config.OUTBOX_RELAY_BATCH_SIZE,
  pollIntervalMs: config.OUTBOX_RELAY_POLL_INTERVAL_MS,
  publishTimeoutMs: config.OUTBOX_RELAY_PUBLISH_TIMEOUT_MS,
  maxAttempts: config.OUTBOX_RELAY_MAX_ATTEMPTS,
  backoffBaseMs: config.OUTBOX_RELAY_BACKOFF_BASE_MS,
  backoffMaxMs: config.OUTBOX_RELAY_BACKOFF_MAX_MS,
  leaseIntervalMs: config.OUTBOX_RELAY_LEASE_INTERVAL_MS,
  retentionHours: config.OUTBOX_RETENTION_HOURS,
  logger,
  hooks: relayMetricsHooks(metrics),
  reporter,
});
await untilItWorks('start the relay (is the database migrated and reachable?)', () => candidate.start());
running.relay = candidate;
if (stopping) await shutdown();
