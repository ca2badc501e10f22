// The container image of every worker: one entry each. `npm run images:write` turns this list into
// workers/<name>/Dockerfile (+ its .dockerignore), the path CI builds every image from; the COPY lines come
// from the entry's import graph, so an image holds exactly the code its worker loads.
// tests/deploy/worker-images.test.ts fails while a worker's main.ts has no entry here or a Dockerfile is stale.

import type { WORKER_VARIABLES } from './lib/worker-config.ts';

export interface WorkerImage {
  /** Image and folder name: workers/<name>/Dockerfile, microdao-<name> in the registry, the k8s Deployment. */
  name: string;
  /** What the container runs: `node --import tsx <entry>`. */
  entry: string;
  /** Its list of variables in workers/lib/worker-config.ts (what its deployment must provide). */
  variables: keyof typeof WORKER_VARIABLES;
  /** One line for the Dockerfile's header. */
  description: string;
  /** The variable naming the port of /metrics and /healthz, and its default in functions/_shared/config.ts. */
  port: { variable: 'METRICS_PORT' | 'NATS_EXPORTER_PORT'; default: number };
  /** What SIGTERM does (a Dockerfile comment; the k8s grace period is sized for it). */
  onSigterm: string;
}

export const WORKER_IMAGES: readonly WorkerImage[] = [
  {
    name: 'outbox-relay',
    variables: 'relay',
    entry: 'workers/outbox-relay/main.ts',
    description: 'publishes the transactional outbox to NATS JetStream (workers/outbox-relay/README.md)',
    port: { variable: 'METRICS_PORT', default: 9464 },
    onSigterm: 'the relay finishes the batches in flight, gives its lanes back, then exits',
  },
  {
    name: 'consumer-telemetry',
    variables: 'consumer',
    entry: 'workers/consumers/telemetry/main.ts',
    description: 'the durable consumer that counts events per type (workers/consumers/telemetry)',
    port: { variable: 'METRICS_PORT', default: 9464 },
    onSigterm: 'the consumer settles the message in hand, drains NATS, then exits',
  },
  {
    name: 'agents',
    variables: 'agents',
    entry: 'workers/agents/main.ts',
    description: 'the agent orchestrator: executes agent runs through the gateway (workers/agents/README.md)',
    port: { variable: 'METRICS_PORT', default: 9464 },
    onSigterm: 'the orchestrator stops taking runs, finishes the runs in hand (or leaves them to another worker), then exits',
  },
  {
    name: 'consumer-embassy',
    variables: 'embassy',
    entry: 'workers/consumers/embassy/main.ts',
    description:
      'the Embassy consumer: applies partner webhooks to the RWA inventory exactly once, sends outbound webhooks (workers/consumers/embassy)',
    port: { variable: 'METRICS_PORT', default: 9464 },
    onSigterm: 'the consumer settles the message in hand, drains NATS, then exits',
  },
  {
    name: 'consumer-gift-fabric',
    variables: 'consumer',
    entry: 'workers/consumers/gift-fabric/main.ts',
    description: 'the Gift Fabric consumer: applies gift.sent to the credit ledger exactly once (workers/consumers/gift-fabric)',
    port: { variable: 'METRICS_PORT', default: 9464 },
    onSigterm: 'the consumer settles the message in hand, drains NATS, then exits',
  },
  {
    name: 'nats-exporter',
    variables: 'natsExporter',
    entry: 'workers/nats-exporter/main.ts',
    description: "serves JetStream stream and consumer metrics read from the NATS server's /jsz",
    port: { variable: 'NATS_EXPORTER_PORT', default: 7777 },
    onSigterm: 'the exporter closes its server and exits',
  },
  {
    name: 'edge-metrics',
    variables: 'edgeMetrics',
    entry: 'workers/edge-metrics/main.ts',
    description: "adds up the Edge Function's pushed request metrics (OTLP/HTTP JSON) and serves them to Prometheus",
    port: { variable: 'METRICS_PORT', default: 9464 },
    onSigterm: 'the receiver closes its server and exits (the totals restart at 0: Prometheus sees a counter reset)',
  },
  {
    name: 'governance-scheduler',
    variables: 'governanceScheduler',
    entry: 'workers/governance-scheduler/main.ts',
    description: 'closes and executes governance proposals when due, safe on several instances (workers/governance-scheduler)',
    port: { variable: 'METRICS_PORT', default: 9464 },
    onSigterm: 'the scheduler finishes the tick in flight (one transaction), then exits',
  },
  {
    name: 'wallet',
    variables: 'wallet',
    entry: 'workers/wallet/main.ts',
    description: 'sends approved payouts on chain from the hot signer and confirms them, never twice (workers/wallet/README.md)',
    port: { variable: 'METRICS_PORT', default: 9464 },
    onSigterm: 'the worker finishes the pass in flight (a payout recorded but not yet sent is sent by the next worker), then exits',
  },
];
