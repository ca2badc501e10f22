// The overview: every component's health, the outbox, the streams and their consumers, the audit log.
// Refreshes itself every few seconds (can be paused) so an operator watches a backlog drain.
import { useEffect, useState } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { ColumnHeads, EmptyState, ResourceStates, useResource } from '../../shared/ui.tsx';

const REFRESH_MS = 2000;
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

function age(seconds: number): string {
  if (seconds <= 0) return '—';
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function Overview({ api }: { api: ApiClient }) {
  const [autoRefresh, setAutoRefresh] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!autoRefresh) return;
    const timer = setInterval(() => setTick((t) => t + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, [autoRefresh]);

  const status = useResource(() => expectOk(api.api.admin.status.$get()), [], tick);
  const audit = useResource(() => expectOk(api.api.admin.audit.$get({ query: { limit: '25' } })), [], tick);
  const data = status.data;

  return (
    <section id="overview" aria-labelledby="overview-heading">
      <div className="toolbar">
        <h2 id="overview-heading">Overview</h2>
        <label className="checkbox">
          <input type="checkbox" checked={autoRefresh} onChange={(e) => setAutoRefresh(e.target.checked)} /> Refresh every{' '}
          {REFRESH_MS / 1000} s
        </label>
        <button type="button" className="secondary" onClick={() => (status.reload(), audit.reload())}>
          Refresh now
        </button>
        {data && (
          <span className="hint">
            As of {timeFormat.format(new Date(data.generated_at))} ({data.environment})
          </span>
        )}
      </div>
      <ResourceStates resource={status} loading="Reading the platform status…" failed="Could not read the platform status." />
      {data && (
        <div className="panels">
          <section className="card components" aria-labelledby="components-heading">
            <h3 id="components-heading">Components</h3>
            <table>
              <ColumnHeads names={['Component', 'Status', 'Detail']} />
              <tbody>
                {data.components.map((component) => (
                  <tr key={component.name} data-component={component.name}>
                    <th scope="row">{component.name}</th>
                    <td>
                      <span className={`badge ${component.status}`}>{component.status}</span>
                    </td>
                    <td>{component.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section className="card" aria-labelledby="outbox-heading">
            <h3 id="outbox-heading">Outbox</h3>
            {data.outbox ? (
              <dl className="figures">
                <div>
                  <dt>Backlog</dt>
                  <dd data-testid="outbox-backlog">{data.outbox.backlog}</dd>
                </div>
                <div>
                  <dt>Oldest unprocessed</dt>
                  <dd data-testid="outbox-oldest-age">{age(data.outbox.oldest_unprocessed_age_seconds)}</dd>
                </div>
                <div>
                  <dt>Dead letters</dt>
                  <dd data-testid="outbox-dead-letters">{data.outbox.dead_letters}</dd>
                </div>
                <div>
                  <dt>Waiting to retry</dt>
                  <dd>{data.outbox.waiting_for_retry}</dd>
                </div>
                <div>
                  <dt>Published, retained (estimate)</dt>
                  <dd data-testid="outbox-processed">{data.outbox.processed_retained}</dd>
                </div>
                <div>
                  <dt>Relay lanes held</dt>
                  <dd>
                    {data.outbox.lanes_held}/{data.outbox.lane_count}
                  </dd>
                </div>
              </dl>
            ) : (
              <EmptyState>The outbox could not be read; see Components.</EmptyState>
            )}
            {data.outbox && data.outbox.newest_dead_letters.length > 0 && (
              <table>
                <caption>Newest dead letters</caption>
                <ColumnHeads names={['Event', 'Attempts', 'Last error']} />
                <tbody>
                  {data.outbox.newest_dead_letters.map((d) => (
                    <tr key={d.id}>
                      <td>
                        {d.event_type} {d.aggregate}
                      </td>
                      <td>{d.attempts}</td>
                      <td>{d.last_error}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="card" aria-labelledby="streams-heading">
            <h3 id="streams-heading">Streams and consumers</h3>
            {data.streams.length === 0 && <EmptyState>No stream could be read; see Components.</EmptyState>}
            {data.streams.map((stream) => (
              <table key={stream.name} data-stream={stream.name}>
                <caption>
                  {stream.name}: {stream.found ? `${stream.messages} messages` : 'not found'}
                </caption>
                <ColumnHeads names={['Consumer', 'Pending', 'Awaiting ack', 'Redelivered']} />
                <tbody>
                  {stream.consumers.length === 0 && (
                    <tr>
                      <td colSpan={4} className="hint">
                        No consumers
                      </td>
                    </tr>
                  )}
                  {stream.consumers.map((consumer) => (
                    <tr key={consumer.name} data-consumer={consumer.name}>
                      <th scope="row">{consumer.name}</th>
                      <td>{consumer.pending}</td>
                      <td>{consumer.ack_pending}</td>
                      <td>{consumer.redelivered}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ))}
          </section>
        </div>
      )}
      <section className="card audit" aria-labelledby="audit-heading">
        <h3 id="audit-heading">Recent audit log</h3>
        <ResourceStates
          resource={audit}
          loading="Reading the audit log…"
          failed="Could not read the audit log."
          empty={{ when: (d) => d.items.length === 0, text: 'Nothing has been audited yet.' }}
        />
        {audit.data && audit.data.items.length > 0 && (
          <table>
            <ColumnHeads names={['When', 'Who', 'Team', 'Action', 'Target', 'Request']} />
            <tbody>
              {audit.data.items.map((entry) => (
                <tr key={entry.id}>
                  <td>
                    <time dateTime={entry.occurred_at}>{timeFormat.format(new Date(entry.occurred_at))}</time>
                  </td>
                  <td>{entry.actor_name ?? entry.actor_id ?? 'system'}</td>
                  <td>{entry.team_name ?? '—'}</td>
                  <td>{entry.action}</td>
                  <td>
                    {entry.target_type} {typeof entry.details.name === 'string' ? entry.details.name : entry.target_id}
                  </td>
                  <td className="mono">{entry.request_id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </section>
  );
}
