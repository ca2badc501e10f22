// Recent agent runs of the teams where the signed-in person holds agent.read: status, agent, when, attempts and,
// for runs that did not complete, their error code and message. "Failures only" narrows to failed runs.
import { useState } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, LoadingState, useResource } from '../../shared/ui.tsx';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const when = (value: string | null) => (value ? dateFormat.format(new Date(value)) : '—');

export function AgentRuns({ api }: { api: ApiClient }) {
  const me = useResource(() => expectOk(api.api.me.$get()), []);
  const teams = useResource(() => expectOk(api.api.teams.$get()), []);
  const [teamId, setTeamId] = useState<string | null>(null);
  const readable = (me.data?.teams ?? []).filter((team) => team.capabilities.includes('agent.read'));
  const names = new Map((teams.data?.items ?? []).map((team) => [team.id, team.name]));
  const selected = teamId ?? readable[0]?.team_id ?? null;

  return (
    <section id="runs" aria-labelledby="runs-heading">
      <div className="toolbar">
        <h2 id="runs-heading">Agent runs</h2>
        {readable.length > 1 && (
          <label>
            Team{' '}
            <select value={selected ?? ''} onChange={(event) => setTeamId(event.target.value)}>
              {readable.map((team) => (
                <option key={team.team_id} value={team.team_id}>
                  {names.get(team.team_id) ?? team.team_id}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {me.status === 'error' && <ErrorState title="Could not read your capabilities." error={me.error} onRetry={me.reload} />}
      {me.status === 'loading' && <LoadingState label="Reading your teams…" />}
      {me.data && readable.length === 0 && <EmptyState>You see the agent runs of no team.</EmptyState>}
      {selected && <TeamRuns key={selected} api={api} teamId={selected} teamName={names.get(selected) ?? 'this team'} />}
    </section>
  );
}

function TeamRuns({ api, teamId, teamName }: { api: ApiClient; teamId: string; teamName: string }) {
  const [failuresOnly, setFailuresOnly] = useState(false);
  const [version, setVersion] = useState(0);
  const runs = useResource(
    () =>
      expectOk(
        api.api['agent-runs'].$get({ query: { team_id: teamId, limit: '50', ...(failuresOnly ? { status: 'failed' as const } : {}) } }),
      ),
    [teamId, failuresOnly],
    version,
  );
  return (
    <section className="card wide" aria-labelledby="runs-list-heading">
      <div className="toolbar">
        <h3 id="runs-list-heading">Recent runs of {teamName}</h3>
        <label>
          <input type="checkbox" checked={failuresOnly} onChange={(event) => setFailuresOnly(event.target.checked)} /> Failures only
        </label>
        <button type="button" className="secondary" onClick={() => setVersion((v) => v + 1)}>
          Refresh
        </button>
      </div>
      {runs.status === 'error' && <ErrorState title="Could not list the runs." error={runs.error} onRetry={runs.reload} />}
      {runs.status === 'loading' && !runs.data && <LoadingState label="Listing the runs…" />}
      {runs.data && runs.data.items.length === 0 && <EmptyState>{failuresOnly ? 'No failed runs.' : 'No runs yet.'}</EmptyState>}
      {runs.data && runs.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Finished</th>
              <th scope="col">Attempts</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.items.map((run) => (
              <tr key={run.id} data-run-id={run.id}>
                <th scope="row">@{run.agent_name}</th>
                <td>
                  <span className={`badge status-${run.status}`}>{run.status.replace('_', ' ')}</span>
                </td>
                <td>{when(run.created_at)}</td>
                <td>{when(run.finished_at)}</td>
                <td>{run.attempts}</td>
                <td>{run.error ? `${run.error.code}: ${run.error.message}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
