// Entry point: `node --import tsx workers/consumers/embassy/main.ts` (npm run consumer:embassy). Through the
// durable consumer NATS_CONSUMER_EMBASSY it applies accepted partner webhooks to the RWA inventory and queues
// the platform events partners subscribe to as outbound deliveries; a poll loop sends those (outbound-sender.ts).
import { parseSecrets, secretVariableOf } from '../../../functions/_shared/embassy/signatures.ts';
import { createEmbassyMetrics, type EmbassyMetrics } from '../../../functions/_shared/metrics.ts';
import type { Config } from '../../../functions/_shared/config.ts';
import { WORKER_VARIABLES } from '../../lib/worker-config.ts';
import type { EventHandler } from '../durable-consumer.ts';
import { runConsumerWorker, type ConsumerWorkerContext } from '../run-consumer-worker.ts';
import { partnerEventApplier } from './apply-partner-event.ts';
import { OutboundSender } from './outbound-sender.ts';
import { OUTBOUND_EVENT_TYPES, recordOutboundDeliveries } from './record-outbound.ts';

const HANDLED = ['embassy.webhook_received', ...OUTBOUND_EVENT_TYPES] as const;

// one registry: the consumer's series and the Embassy's own on the same /metrics
let embassyMetrics: EmbassyMetrics | undefined;
const embassyMetricsOf = ({ metrics }: ConsumerWorkerContext) => (embassyMetrics ??= createEmbassyMetrics(metrics.registry));

function createEmbassyHandler(context: ConsumerWorkerContext): EventHandler {
  const metrics = embassyMetricsOf(context);
  const applyPartnerEvent = partnerEventApplier((partner, result) => metrics.rwaApplied.inc({ partner, result }));
  return async (event, tx) => {
    await applyPartnerEvent(event, tx);
    await recordOutboundDeliveries(event, tx);
  };
}

/** Sends due outbound webhooks every EMBASSY_OUTBOUND_POLL_INTERVAL_MS, one round at a time. */
function startOutboundSender(context: ConsumerWorkerContext, stopping: () => boolean) {
  const { config, sql, logger } = context;
  const metrics = embassyMetricsOf(context);
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
    metrics,
  });
  // one round at a time: the next poll starts after the previous one's POSTs are answered
  let sending: Promise<void> = Promise.resolve();
  let lastDeadCount = 0;
  const timer = setInterval(() => {
    sending = sending.then(async () => {
      if (stopping()) return;
      try {
        while ((await sender.deliverDue()).length > 0 && !stopping());
        if (Date.now() - lastDeadCount > 15_000) {
          lastDeadCount = Date.now();
          metrics.outboundDead.set(await sender.countDead());
        }
      } catch (error) {
        logger.warn('could not send outbound webhooks; retrying at the next poll', { error: (error as Error).message });
      }
    });
  }, config.EMBASSY_OUTBOUND_POLL_INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      return sending;
    },
  };
}

await runConsumerWorker(
  {
    service: 'consumer-embassy',
    variables: WORKER_VARIABLES.embassy,
    consumerName: (config) => config.NATS_CONSUMER_EMBASSY,
    eventTypes: HANDLED,
    createHandler: createEmbassyHandler,
    startBackground: startOutboundSender,
  },
  process.env,
);
