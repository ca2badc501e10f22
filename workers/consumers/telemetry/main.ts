// Entry point: `node --import tsx workers/consumers/telemetry/main.ts` (npm run consumer:telemetry). Counts
// every event of NATS_STREAM_EVENTS per type, through the durable consumer NATS_CONSUMER_TELEMETRY.
import { WORKER_VARIABLES } from '../../lib/worker-config.ts';
import { runConsumerWorker } from '../run-consumer-worker.ts';
import { countEvent } from './telemetry.ts';

await runConsumerWorker(
  {
    service: 'consumer-telemetry',
    variables: WORKER_VARIABLES.consumer,
    consumerName: (config) => config.NATS_CONSUMER_TELEMETRY,
    createHandler: () => countEvent,
  },
  process.env,
);
