// Entry point: `node --import tsx workers/consumers/gift-fabric/main.ts` (npm run consumer:gift-fabric). Through
// the durable consumer NATS_CONSUMER_GIFT_FABRIC it applies every gift.sent to the credit ledger exactly once
// and emits gift.delivered or gift.refused (apply-gift.ts).
import { createGiftFabricMetrics } from '../../../functions/_shared/metrics.ts';
import { WORKER_VARIABLES } from '../../lib/worker-config.ts';
import { runConsumerWorker } from '../run-consumer-worker.ts';
import { giftApplier } from './apply-gift.ts';

await runConsumerWorker(
  {
    service: 'consumer-gift-fabric',
    variables: WORKER_VARIABLES.consumer,
    consumerName: (config) => config.NATS_CONSUMER_GIFT_FABRIC,
    eventTypes: ['gift.sent'],
    // its own series on the consumer's registry: one /metrics
    createHandler: ({ metrics }) => giftApplier(createGiftFabricMetrics(metrics.registry)),
  },
  process.env,
);
