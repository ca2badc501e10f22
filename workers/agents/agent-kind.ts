// What an agent kind is to the orchestrator: code that executes one claimed run through the gateway and says how
// it ended. The orchestrator owns the lifecycle (claim, lease, steps, settle); a kind only does the work.
import type { GatewayClient } from './gateway-client.ts';

export interface RunForWorker {
  run_id: string;
  team_id: string;
  agent_id: string;
  agent_name: string;
  agent_kind: string;
  agent_config: Record<string, unknown>;
  principal_id: string;
  channel_id: string | null;
  input: Record<string, unknown>;
  attempts: number;
  correlation_id: string | null;
}

export type RunOutcome =
  | { status: 'completed'; output: Record<string, unknown>; usage: Record<string, unknown> }
  | { status: 'failed'; error: { code: string; message: string }; usage?: Record<string, unknown> }
  | { status: 'requires_action'; action: Record<string, unknown>; usage?: Record<string, unknown> };

export interface RunSteps {
  /** Records a step that is done; throws RunLost when the worker no longer holds the run. */
  record(kind: string, status: 'succeeded' | 'failed', detail: Record<string, unknown>): Promise<void>;
  /** Records a step as started (before a side effect), and returns how to finish it. */
  start(
    kind: string,
    detail: Record<string, unknown>,
  ): Promise<(status: 'succeeded' | 'failed', detail: Record<string, unknown>) => Promise<void>>;
  /** Whether an earlier attempt started a step of this kind and never finished it (its side effect may have happened). */
  unfinishedFromEarlierAttempt(kind: string): Promise<boolean>;
}

export interface AgentKind {
  execute(run: RunForWorker, gateway: GatewayClient, steps: RunSteps, signal: AbortSignal): Promise<RunOutcome>;
}

/** The worker lost the run mid-way (cancelled, expired, taken over): stop without settling. */
export class RunLost extends Error {
  override name = 'RunLost';
}
