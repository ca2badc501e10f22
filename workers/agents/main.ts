// Entry point: `node --import tsx workers/agents/main.ts` (npm run agents:worker). The Agent Orchestrator: takes
// queued runs from NATS_STREAM_EVENTS through the durable consumer NATS_CONSUMER_AGENTS (shared by every agent
// worker), executes them and acts through the gateway at AGENT_GATEWAY_URL with a short-lived key per run.
import { jetstreamManager } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createLogger } from '../../functions/_shared/log.ts';
import { serveMetrics } from '../lib/metrics-server.ts';
import { connectNats } from '../lib/nats.ts';
import { connectWorkerDatabase } from '../lib/postgres.ts';
import { createWorkerErrorReporter } from '../lib/sentry.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../lib/worker-config.ts';
import { createAgentMetrics } from './agent-metrics.ts';
import { createLlmAgent } from './kinds/llm-agent.ts';
import { AGENT_KINDS, AgentOrchestrator } from './orchestrator.ts';

const config = loadWorkerConfig('agents', process.env, WORKER_VARIABLES.agents);
const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'agents', worker: workerId } });
const reporter = await createWorkerErrorReporter(config, 'agents');
const metrics = createAgentMetrics();
const metricsServer = await serveMetrics(metrics.registry, { host: config.METRICS_HOST, port: config.METRICS_PORT }).catch(
  (error: Error) => {
    logger.error('metrics not served; running anyway', { error: error.message, fix: 'give each worker on a host its own METRICS_PORT' });
    return undefined;
  },
);
const nc = await connectNats(config, { name: `microdao-agents-${workerId}` });
const jsm = await jetstreamManager(nc, { checkAPI: false });
const sql = connectWorkerDatabase(config, { applicationName: 'microdao-agents', max: 4 });
const orchestrator = new AgentOrchestrator({
  nc,
  jsm,
  sql,
  stream: config.NATS_STREAM_EVENTS,
  subjectPrefix: config.NATS_SUBJECT_PREFIX,
  consumerName: config.NATS_CONSUMER_AGENTS,
  workerId,
  gatewayUrl: config.AGENT_GATEWAY_URL,
  environment: config.APP_ENV,
  leaseSeconds: config.AGENT_LEASE_SECONDS,
  teamLimit: config.AGENT_TEAM_CONCURRENCY,
  maxAttempts: config.AGENT_MAX_ATTEMPTS,
  logger,
  metrics,
  // the llm kind's endpoint; without LLM_BASE_URL its runs fail with llm_not_configured
  kinds: {
    ...AGENT_KINDS,
    llm: createLlmAgent(
      config.LLM_BASE_URL && config.LLM_MODEL
        ? { baseUrl: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY, model: config.LLM_MODEL, timeoutMs: config.LLM_TIMEOUT_MS }
        : undefined,
    ),
  },
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void orchestrator
      .stop()
      .then(() => Promise.all([sql.end({ timeout: 5 }), nc.drain(), metricsServer?.close(), reporter.flush(2000)]))
      .then(() => process.exit(0));
  });
}

// queue depth for the dashboard: what the shared consumer still has to hand out
setInterval(() => {
  jsm.consumers
    .info(config.NATS_STREAM_EVENTS, config.NATS_CONSUMER_AGENTS)
    .then((info) => metrics.queueDepth.set(info.num_pending + info.num_ack_pending))
    .catch(() => undefined);
}, 5000).unref();

// the stream is the relay's to create: wait for it rather than race it
for (let attempt = 0; !stopping; attempt += 1) {
  try {
    await orchestrator.start();
    break;
  } catch (error) {
    const delay = Math.min(30_000, 500 * 2 ** attempt);
    logger.warn('could not start the agent orchestrator (is the relay running and the stream there?); retrying', {
      error: (error as Error).message,
      retry_in_ms: delay,
    });
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
