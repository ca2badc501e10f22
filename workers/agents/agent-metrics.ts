// The orchestrator's metrics: runs claimed and settled by status, run duration, gateway/tool errors by code, and
// queued run messages not yet taken (the durable consumer's pending count, read from JetStream).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const RUN_OUTCOMES = ['completed', 'failed', 'requires_action', 'lost'] as const;

export function createAgentMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  const metrics = {
    registry,
    claimed: new Counter({
      name: 'microdao_agent_runs_started_total',
      help: 'Runs a worker claimed and started executing (a takeover after a crash counts again), by agent kind.',
      labelNames: ['kind'] as const,
      registers,
    }),
    settled: new Counter({
      name: 'microdao_agent_runs_finished_total',
      help: 'Executions that ended, by outcome: completed, failed, requires_action (waits for a person) or lost (cancelled, expired or taken over).',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'microdao_agent_run_duration_seconds',
      help: 'Time from claim to settle of one execution, by agent kind.',
      labelNames: ['kind'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    toolErrors: new Counter({
      name: 'microdao_agent_tool_errors_total',
      help: 'Calls of an agent to the gateway (its tools) or to a model provider that failed, by kind and error code.',
      labelNames: ['kind', 'code'] as const,
      registers,
    }),
    refusedClaims: new Counter({
      name: 'microdao_agent_claims_refused_total',
      help: 'Run messages a worker could not take, by reason (busy: team limit; leased: another worker holds it; waiting; gone; expired; exhausted).',
      labelNames: ['reason'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'microdao_agent_queue_depth',
      help: 'Run messages waiting for an agent worker (JetStream pending + redeliveries of the agents consumer).',
      registers,
    }),
  };
  for (const outcome of RUN_OUTCOMES) metrics.settled.inc({ kind: 'summarizer', outcome }, 0);
  metrics.claimed.inc({ kind: 'summarizer' }, 0);
  return metrics;
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
