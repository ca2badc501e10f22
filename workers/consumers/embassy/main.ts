// Entry point: `node --import tsx workers/consumers/embassy/main.ts` (npm run consumer:embassy). Through the
// durable consumer NATS_CONSUMER_EMBASSY it applies accepted partner webhooks to the RWA inventory and queues
// the platform events partners subscribe to as outbound deliveries; a poll loop sends those (outbound-sender.ts).
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
import { parseSecrets, secretVariableOf } from '../../../functions/_shared/embassy/signatures.ts';
import { createEmbassyMetrics } from '../../../functions/_shared/metrics.ts';
import type { Config } from '../../../functions/_shared/config.ts';
import type { EventHandler } from '../durable-consumer.ts';
import { partnerEventApplier } from './apply-partner-event.ts';
import { OutboundSender } from './outbound-sender.ts';
import { OUTBOUND_EVENT_TYPES, recordOutboundDeliveries } from './record-outbound.ts';

const HANDLED = ['embassy.webhook_received', ...OUTBOUND_EVENT_TYPES] as const;

const config = loadWorkerConfig('embassy', process.env, WORKER_VARIABLES.embassy);
const name = config.NATS_CONSUMER_EMBASSY;
const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'consumer-embassy', consumer: name } });
const reporter = await createWorkerErrorReporter(config, 'consumer-embassy');
const metrics = createDurableConsumerMetrics(name, HANDLED);
// one registry: the consumer's series and the Embassy's own on the same /metrics
const embassyMetrics = createEmbassyMetrics(metrics.registry);
const metricsServer = await serveMetrics(metrics.registry, { host: config.METRICS_HOST, port: config.METRICS_PORT }).catch(
  (error: Error) => {
    logger.error('metrics not served; consuming anyway', { error: error.message, fix: 'give each worker on a host its own METRICS_PORT' });
    return undefined;
  },
);
const nc = await connectNats(config, { name: `microdao-consumer-${name}` });
const jsm = await jetstreamManager(nc, { checkAPI: false });
const sql = connectWorkerDatabase(config, { applicationName: `microdao-consumer-${name}`, max: 2 });
const applyPartnerEvent = partnerEventApplier((partner, result) => embassyMetrics.rwaApplied.inc({ partner, result }));
const handleEmbassyEvent: EventHandler = async (event, tx) => {
  await applyPartnerEvent(event, tx);
  await recordOutboundDeliveries(event, tx);
};
const consumer = new DurableConsumer({
  nc,
  jsm,
  sql,
  stream: config.NATS_STREAM_EVENTS,
  subjectPrefix: config.NATS_SUBJECT_PREFIX,
  name,
  eventTypes: HANDLED,
  handle: observedHandler(handleEmbassyEvent, { metrics, consumer: name, logger }),
  hooks: consumerMetricsHooks(metrics, name),
  maxDeliver: config.CONSUMER_MAX_DELIVER,
  ackWaitMs: config.CONSUMER_ACK_WAIT_SECONDS * 1000,
  logger,
  reporter,
});

const secretsByPartner = new Map<string, ReturnType<typeof parseSecrets>>();
const sender = new OutboundSender({
  sql,
  secretsOf: (partner) => {
    if (!secretsByPartner.has(partner)) {
      secretsByPartner.set(partner, parseSecrets(config[secretVariableOf(partner) as keyof Config] as string | undefined));
    }
    return secretsByPartner.get(partner)!;
  },
  maxAttempts: config.EMBASSY_OUTBOUND_MAX_ATTEMPTS,
  backoffBaseMs: config.EMBASSY_OUTBOUND_BACKOFF_BASE_MS,
  backoffMaxMs: config.EMBASSY_OUTBOUND_BACKOFF_MAX_MS,
  timeoutMs: config.EMBASSY_OUTBOUND_TIMEOUT_MS,
  logger,
  metrics: embassyMetrics,
});

let stopping = false;
// one round at a time: the next poll starts after the previous one's POSTs are answered
let sending: Promise<void> = Promise.resolve();
let lastDeadCount = 0;
const outboundTimer = setInterval(() => {
  sending = sending.then(async () => {
    if (stopping) return;
    try {
      while ((await sender.deliverDue()).length > 0 && !stopping);
      if (Date.now() - lastDeadCount > 15_000) {
        lastDeadCount = Date.now();
        embassyMetrics.outboundDead.set(await sender.countDead());
      }
    } catch (error) {
      logger.warn('could not send outbound webhooks; retrying at the next poll', { error: (error as Error).message });
    }
  });
}, config.EMBASSY_OUTBOUND_POLL_INTERVAL_MS);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    clearInterval(outboundTimer);
    void Promise.all([consumer.stop(), sending])
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
