// The team's agents and their recent runs, next to the channel: start a run that replies in the open channel,
// follow each run's status live (agent_run.* events mark the list stale), and approve or reject an action a
// run waits on (requires_action). The agent's reply itself lands in the channel like any message.
import { useState } from 'react';
import { describeError } from '../../shared/api-errors.ts';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { useBooleanFlag } from '../../shared/flags.ts';
import { EmptyState, ErrorState, LoadingState, useResource, type Resource } from '../../shared/ui.tsx';
import type { Agent, AgentRun, Channel } from './types.ts';

const statusLabels: Record<AgentRun['status'], string> = {
  queued: 'queued',
  in_progress: 'working…',
  requires_action: 'waiting for your decision',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  expired: 'expired',
};

export function AgentsPanel(props: {
  api: ApiClient;
  teamId: string;
  agents: Resource<{ items: Agent[] }>;
  channel: Channel | null;
  version: number;
}) {
  const { api, teamId, agents, channel } = props;
  const runs = useResource(
    () => expectOk(api.api['agent-runs'].$get({ query: { team_id: teamId, limit: '10' } })),
    [teamId],
    props.version,
  );
  const [problem, setProblem] = useState<string | null>(null);
  // the gateway decides per team (403 agents_disabled); this only hides buttons that could not work
  const agentsOn = useBooleanFlag('agents', false);
  const names = new Map((agents.data?.items ?? []).map((agent) => [agent.id, agent.name]));

  const act = async (work: () => Promise<unknown>) => {
    setProblem(null);
    try {
      await work();
      runs.reload();
    } catch (error) {
      setProblem(describeError(error).message);
    }
  };

  return (
    <section className="agents-panel" aria-labelledby="agents-heading">
      <h2 id="agents-heading">Agents</h2>
      {agents.status === 'loading' && !agents.data && <LoadingState label="Loading the agents…" />}
      {agents.status === 'error' && <ErrorState title="Could not load the agents." error={agents.error} onRetry={agents.reload} />}
      {agents.data && agents.data.items.length === 0 && <EmptyState>This team has no agents yet.</EmptyState>}
      {agents.data && agents.data.items.length > 0 && (
        <ul className="agent-list">
          {agents.data.items.map((agent) => (
            <li key={agent.id} data-agent-id={agent.id}>
              <span className="agent-name">@{agent.name}</span> <span className="hint">{agent.enabled ? agent.kind : 'disabled'}</span>
              {agentsOn && channel && agent.enabled && !channel.archived_at && (
                <button
                  type="button"
                  className="secondary"
                  onClick={() =>
                    void act(() =>
                      expectOk(api.api.agents[':agentId'].runs.$post({ param: { agentId: agent.id }, json: { channel_id: channel.id } })),
                    )
                  }
                >
                  Run @{agent.name} in #{channel.name}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {agents.data && agents.data.items.length > 0 && !agentsOn && (
        <p className="hint">Agents are switched off for now (feature flag “agents”): mentions start no runs.</p>
      )}
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <h3 id="agent-runs-heading">Recent runs</h3>
      {runs.status === 'error' && <ErrorState title="Could not list the runs." error={runs.error} onRetry={runs.reload} />}
      {runs.data && runs.data.items.length === 0 && <EmptyState>No runs yet. Mention an agent in a channel, e.g. @summarizer.</EmptyState>}
      {runs.data && runs.data.items.length > 0 && (
        // polite live region: a run's status changes are announced as they arrive
        <ol className="agent-runs" aria-labelledby="agent-runs-heading" aria-live="polite">
          {runs.data.items.map((run) => (
            <li key={run.id} data-run-id={run.id} data-status={run.status} className={`agent-run ${run.status}`}>
              <span className="agent-name">@{names.get(run.agent_id) ?? run.agent_name}</span>{' '}
              <span className="run-status">{statusLabels[run.status]}</span>
              {run.error && <span className="hint"> — {run.error.message}</span>}
              {run.status === 'requires_action' && run.pending_action && (
                <PendingAction run={run} onDecide={(approve) => act(() => decide(api, run.id, approve))} />
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

const decide = (api: ApiClient, runId: string, approve: boolean) =>
  expectOk(api.api['agent-runs'][':runId'].action.$post({ param: { runId }, json: { approve, note: null } }));

function PendingAction({ run, onDecide }: { run: AgentRun; onDecide: (approve: boolean) => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const action = run.pending_action!;
  const decideOnce = (approve: boolean) => {
    setBusy(true);
    void onDecide(approve).finally(() => setBusy(false));
  };
  return (
    <div className="pending-action">
      <p>
        Wants to <strong>{String(action.tool ?? 'act')}</strong>
        {typeof action.body === 'string' && <>: “{action.body.slice(0, 200)}”</>}
      </p>
      <button type="button" disabled={busy} onClick={() => decideOnce(true)}>
        Approve
      </button>{' '}
      <button type="button" className="secondary" disabled={busy} onClick={() => decideOnce(false)}>
        Reject
      </button>
    </div>
  );
}
