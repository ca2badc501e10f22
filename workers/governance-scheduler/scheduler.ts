// The governance scheduler's loop: every interval, one app.governance_tick (20261205000410) in its own
// transaction, repeated at once while a batch came back full. The SQL claims due proposals with
// `for update skip locked` and moves each exactly one step with its event, so any number of instances can run
// this loop against one database: none waits on another, and no proposal is closed or executed twice.
import type { Logger } from '../../functions/_shared/log.ts';
import type { Sql } from '../lib/postgres.ts';
import { isDatabaseUnavailable } from '../lib/postgres.ts';
import type { GovernanceSchedulerMetrics } from '../../functions/_shared/metrics.ts';

export interface GovernanceStep {
  proposal_id: string;
  from_state: string;
  to_state: string;
}

/** One tick: at most `batch` proposals, each moved one step. */
export async function runGovernanceTick(sql: Sql, batch: number): Promise<GovernanceStep[]> {
  return sql<GovernanceStep[]>`select proposal_id, from_state::text, to_state::text from app.governance_tick(${batch})`;
}

export interface SchedulerOptions {
  sql: Sql;
  logger: Logger;
  metrics?: GovernanceSchedulerMetrics;
  intervalMs: number;
  batch: number;
}

export interface RunningScheduler {
  /** Steps this instance has taken since it started. */
  readonly steps: number;
  /** Finishes the tick in flight, then stops. */
  stop(): Promise<void>;
}

export function startGovernanceScheduler(options: SchedulerOptions): RunningScheduler {
  const { sql, logger, metrics, intervalMs, batch } = options;
  let stopping = false;
  let steps = 0;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    while (!stopping) {
      const started = performance.now();
      let full = false;
      try {
        const taken = await runGovernanceTick(sql, batch);
        steps += taken.length;
        full = taken.length === batch;
        for (const step of taken) {
          metrics?.steps.inc({ to_state: step.to_state });
          logger.info('proposal moved', { proposal_id: step.proposal_id, from: step.from_state, to: step.to_state });
        }
        metrics?.ticks.inc({ outcome: 'ok' });
      } catch (error) {
        metrics?.ticks.inc({ outcome: 'failed' });
        // an unreachable database is waited out; anything else is logged and retried next interval
        logger[isDatabaseUnavailable(error) ? 'warn' : 'error']('governance tick failed', { error: (error as Error).message });
      } finally {
        metrics?.tickSeconds.observe((performance.now() - started) / 1000);
      }
      if (!full && !stopping) await pause(intervalMs);
    }
  })();

  return {
    get steps() {
      return steps;
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
  };
}
