// The overview: every component's health, the outbox, the streams and their consumers, the audit log.
// Refreshes itself every few seconds (can be paused) so an operator watches a backlog drain.
import { useEffect, useState } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, LoadingState, useResource } from '../../shared/ui.tsx';

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
      {status.status === 'error' && <ErrorState title="Could not read the platform status." error={status.error} onRetry={status.reload} />}
      {!data && status.status === 'loading' && <LoadingState label="Reading the platform status…" />}
      {data && (
        <div className="panels">
          <section className="card components" aria-labelledby="components-heading">
            <h3 id="components-heading">Components</h3>
            <table>
              <thead>
                <tr>
                  <th scope="col">Component</th>
                  <th scope="col">Status</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
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
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last error</th>
                  </tr>
                </thead>
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
                <thead>
                  <tr>
                    <th scope="col">Consumer</th>
                    <th scope="col">Pending</th>
                    <th scope="col">Awaiting ack</th>
                    <th scope="col">Redelivered</th>
                  </tr>
                </thead>
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
        {audit.status === 'error' && <ErrorState title="Could not read the audit log." error={audit.error} onRetry={audit.reload} />}
        {!audit.data && audit.status === 'loading' && <LoadingState label="Reading the audit log…" />}
        {audit.data && audit.data.items.length === 0 && <EmptyState>Nothing has been audited yet.</EmptyState>}
        {audit.data && audit.data.items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Team</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Request</th>
              </tr>
            </thead>
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
