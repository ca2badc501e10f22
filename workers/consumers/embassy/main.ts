// Entry point: `node --import tsx workers/consumers/embassy/main.ts` (npm run consumer:embassy). Applies
// accepted partner webhooks to the RWA inventory through the durable consumer NATS_CONSUMER_EMBASSY.
import { jetstreamManager } from '@nats-io/jetstream';
import { streamLimitsFor } from '../../../functions/_shared/events/streams.ts';
import { createLogger } from '../../../functions/_shared/log.ts';
import { serveMetrics } from '../../lib/metrics-server.ts';
import { connectNats } from '../../lib/nats.ts';
import { connectWorkerDatabase } from '../../lib/postgres.ts';
import { createWorkerErrorReporter } from '../../lib/sentry.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../../lib/worker-config.ts';
import { DurableConsumer, pruneProcessedEventIds } from '../durable-consumer.ts';
import { consumerMetricsHooks, createDurableConsumerMetrics, observedHandler } from '../metrics.ts';
import { applyPartnerEvent } from './apply-partner-event.ts';

const HANDLED = ['embassy.webhook_received'] as const;

const config = loadWorkerConfig('embassy', process.env, WORKER_VARIABLES.consumer);
const name = config.NATS_CONSUMER_EMBASSY;
const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'consumer-embassy', consumer: name } });
const reporter = await createWorkerErrorReporter(config, 'consumer-embassy');
const metrics = createDurableConsumerMetrics(name, HANDLED);
const metricsServer = await serveMetrics(metrics.registry, { host: config.METRICS_HOST, port: config.METRICS_PORT }).catch(
  (error: Error) => {
    logger.error('metrics not served; consuming anyway', { error: error.message, fix: 'give each worker on a host its own METRICS_PORT' });
    return undefined;
  },
);
const nc = await connectNats(config, { name: `microdao-consumer-${name}` });
const jsm = await jetstreamManager(nc, { checkAPI: false });
const sql = connectWorkerDatabase(config, { applicationName: `microdao-consumer-${name}`, max: 2 });
const consumer = new DurableConsumer({
  nc,
  jsm,
  sql,
  stream: config.NATS_STREAM_EVENTS,
  subjectPrefix: config.NATS_SUBJECT_PREFIX,
  name,
  eventTypes: HANDLED,
  handle: observedHandler(applyPartnerEvent, { metrics, consumer: name, logger }),
  hooks: consumerMetricsHooks(metrics, name),
  maxDeliver: config.CONSUMER_MAX_DELIVER,
  ackWaitMs: config.CONSUMER_ACK_WAIT_SECONDS * 1000,
  logger,
  reporter,
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void consumer
      .stop()
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

const keepMs = streamLimitsFor(config.APP_ENV).maxAgeMs + 86_400_000;
setInterval(() => {
  pruneProcessedEventIds(sql, name, keepMs).catch((error: Error) =>
    logger.warn('could not prune processed event ids', { error: error.message }),
  );
}, 3_600_000).unref();
