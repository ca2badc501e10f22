// The process around a durable consumer, shared by every consumer's main.ts: configuration, logger, Sentry,
// /metrics, the NATS and Postgres connections, the DurableConsumer itself (started with backoff while the
// relay has not created the stream yet), the hourly pruning of processed event ids, and a clean stop on
// SIGTERM/SIGINT (a second signal ends the process at once). A consumer supplies its handler and, if it has
// one, background work to run beside it (the Embassy's outbound sender).
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Config } from '../../functions/_shared/config.ts';
import type { EventType } from '../../functions/_shared/events/catalog.ts';
import { streamLimitsFor } from '../../functions/_shared/events/streams.ts';
import { createLogger, type Logger } from '../../functions/_shared/log.ts';
import type { ConsumerMetrics } from '../../functions/_shared/metrics.ts';
import { serveMetrics } from '../lib/metrics-server.ts';
import { connectNats } from '../lib/nats.ts';
import { connectWorkerDatabase, type Sql } from '../lib/postgres.ts';
import { createWorkerErrorReporter } from '../lib/sentry.ts';
import { loadWorkerConfig } from '../lib/worker-config.ts';
import { DurableConsumer, pruneProcessedEventIds, type EventHandler } from './durable-consumer.ts';
import { consumerMetricsHooks, createDurableConsumerMetrics, observedHandler } from './metrics.ts';

/** What a consumer's handler and background work get once the process is connected. */
export interface ConsumerWorkerContext {
  config: Config;
  /** The durable consumer's name (its NATS_CONSUMER_* variable). */
  name: string;
  logger: Logger;
  /** The consumer's metrics; its registry is the one /metrics serves, for the consumer's own series too. */
  metrics: ConsumerMetrics;
  sql: Sql;
  nc: NatsConnection;
}

export interface ConsumerWorkerDefinition {
  /** `consumer-<name>`: the service in logs and Sentry. */
  service: string;
  /** Variables the process validates (lib/worker-config.ts WORKER_VARIABLES). */
  variables: readonly (keyof Config)[];
  consumerName(config: Config): string;
  /** The event types it handles (others are acknowledged and skipped); default every type of the catalog. */
  eventTypes?: readonly EventType[];
  createHandler(context: ConsumerWorkerContext): EventHandler;
  /** Work beside the consumer; stopped together with it, before the connections close. */
  startBackground?(context: ConsumerWorkerContext, stopping: () => boolean): { stop(): Promise<unknown> };
}

/** Runs the consumer until SIGTERM; `environment` is the process's (entry points hand it in: config enters there). */
export async function runConsumerWorker(definition: ConsumerWorkerDefinition, environment: NodeJS.ProcessEnv): Promise<void> {
  const { service } = definition;
  const config = loadWorkerConfig(service.replace(/^consumer-/, ''), environment, definition.variables);
  const name = definition.consumerName(config);
  const logger = createLogger({ level: config.LOG_LEVEL, base: { service, consumer: name } });
  // Sentry (uncaught errors, and the consumer's failures: see DurableConsumer's reporter) and /metrics on
  // METRICS_HOST:METRICS_PORT
  const reporter = await createWorkerErrorReporter(config, service);
  const metrics = createDurableConsumerMetrics(name, definition.eventTypes);
  const metricsServer = await serveMetrics(metrics.registry, { host: config.METRICS_HOST, port: config.METRICS_PORT }).catch(
    (error: Error) => {
      logger.error('metrics not served; consuming anyway', {
        error: error.message,
        fix: 'give each worker on a host its own METRICS_PORT',
      });
      return undefined;
    },
  );
  const nc = await connectNats(config, { name: `microdao-consumer-${name}` });
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const sql = connectWorkerDatabase(config, { applicationName: `microdao-consumer-${name}`, max: 2 });
  const context: ConsumerWorkerContext = { config, name, logger, metrics, sql, nc };
  const consumer = new DurableConsumer({
    nc,
    jsm,
    sql,
    stream: config.NATS_STREAM_EVENTS,
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
    name,
    eventTypes: definition.eventTypes,
    handle: observedHandler(definition.createHandler(context), { metrics, consumer: name, logger }),
    hooks: consumerMetricsHooks(metrics, name),
    maxDeliver: config.CONSUMER_MAX_DELIVER,
    ackWaitMs: config.CONSUMER_ACK_WAIT_SECONDS * 1000,
    logger,
    reporter,
  });

  let stopping = false;
  const background = definition.startBackground?.(context, () => stopping);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      void Promise.all([consumer.stop(), background?.stop()])
        .then(() => Promise.all([sql.end({ timeout: 5 }), nc.drain(), metricsServer?.close(), reporter.flush(2000)]))
        .then(() => process.exit(0));
    });
  }

  // the stream is the relay's to create: wait for it rather than race it
  for (let attempt = 0; !stopping; attempt += 1) {
    try {
      await consumer.start();
      break;
    } catch (error) {
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      logger.warn('could not start the consumer (is the relay running and the stream there?); retrying', {
        error: (error as Error).message,
        retry_in_ms: delay,
      });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  // processed ids are kept as long as the stream keeps messages, plus a day
  const keepMs = streamLimitsFor(config.APP_ENV).maxAgeMs + 86_400_000;
  setInterval(() => {
    pruneProcessedEventIds(sql, name, keepMs).catch((error: Error) =>
      logger.warn('could not prune processed event ids', { error: error.message }),
    );
  }, 3_600_000).unref();
}
