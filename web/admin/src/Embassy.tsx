// The Embassy pages (platform admins): the partners with their delivery counts, outbound webhooks with their
// attempts — "Dead letters" narrows to the ones the consumer gave up on, each with a Redeliver button (one more
// attempt, audited) — and the newest inbound webhooks with what became of them.
import { useState } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, LoadingState, useResource } from '../../shared/ui.tsx';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const when = (value: string | null) => (value ? dateFormat.format(new Date(value)) : '—');

export function Embassy({ api }: { api: ApiClient }) {
  const [version, setVersion] = useState(0);
  const refresh = () => setVersion((v) => v + 1);
  return (
    <section id="embassy" aria-labelledby="embassy-heading">
      <div className="toolbar">
        <h2 id="embassy-heading">Embassy</h2>
        <button type="button" className="secondary" onClick={refresh}>
          Refresh
        </button>
      </div>
      <Partners api={api} version={version} />
      <Outbound api={api} version={version} onChanged={refresh} />
      <Inbound api={api} version={version} />
    </section>
  );
}

function Partners({ api, version }: { api: ApiClient; version: number }) {
  const partners = useResource(() => expectOk(api.api.admin.embassy.partners.$get()), [], version);
  return (
    <section className="card wide" aria-labelledby="partners-heading">
      <h3 id="partners-heading">Partners</h3>
      {partners.status === 'error' && <ErrorState title="Could not list the partners." error={partners.error} onRetry={partners.reload} />}
      {partners.status === 'loading' && !partners.data && <LoadingState label="Listing the partners…" />}
      {partners.data && (
        <table>
          <thead>
            <tr>
              <th scope="col">Partner</th>
              <th scope="col">Status</th>
              <th scope="col">Secret</th>
              <th scope="col">Outbound endpoint</th>
              <th scope="col">Linked teams</th>
              <th scope="col">Inbound</th>
              <th scope="col">Outbound pending / delivered / dead</th>
            </tr>
          </thead>
          <tbody>
            {partners.data.items.map((partner) => (
              <tr key={partner.partner}>
                <th scope="row">{partner.display_name}</th>
                <td>{partner.status}</td>
                <td>
                  <code>{partner.secret_ref}</code> {partner.secret_configured ? 'configured' : 'not configured here'}
                </td>
                <td>{partner.endpoint_url ?? 'none (subscribes to nothing)'}</td>
                <td>{partner.linked_teams}</td>
                <td>{partner.inbound_total}</td>
                <td>
                  {partner.outbound_pending} / {partner.outbound_delivered} / {partner.outbound_dead}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Outbound({ api, version, onChanged }: { api: ApiClient; version: number; onChanged: () => void }) {
  const [deadOnly, setDeadOnly] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const deliveries = useResource(
    () => expectOk(api.api.admin.embassy.outbound.$get({ query: { limit: '50', ...(deadOnly ? { status: 'dead' as const } : {}) } })),
    [deadOnly],
    version,
  );
  const redeliver = async (id: string) => {
    setBusy(id);
    try {
      await expectOk(api.api.admin.embassy.outbound[':id'].redeliver.$post({ param: { id } }));
      setMessage({ text: `Delivery ${id.slice(0, 8)} is pending again: the Embassy consumer makes one more attempt.`, error: false });
      onChanged();
    } catch (error) {
      setMessage({ text: `Could not redeliver: ${error instanceof Error ? error.message : String(error)}`, error: true });
    } finally {
      setBusy(null);
    }
  };
  return (
    <section className="card wide" aria-labelledby="outbound-heading">
      <div className="toolbar">
        <h3 id="outbound-heading">Outbound webhooks</h3>
        <label>
          <input type="checkbox" checked={deadOnly} onChange={(event) => setDeadOnly(event.target.checked)} /> Dead letters only
        </label>
      </div>
      <p role="status" className={message?.error ? 'error' : undefined}>
        {message?.text}
      </p>
      {deliveries.status === 'error' && (
        <ErrorState title="Could not list the outbound webhooks." error={deliveries.error} onRetry={deliveries.reload} />
      )}
      {deliveries.status === 'loading' && !deliveries.data && <LoadingState label="Listing the outbound webhooks…" />}
      {deliveries.data && deliveries.data.items.length === 0 && (
        <EmptyState>{deadOnly ? 'No dead letters.' : 'No outbound webhooks yet.'}</EmptyState>
      )}
      {deliveries.data && deliveries.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Partner</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">Next attempt</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data.items.map((delivery) => (
              <tr key={delivery.id} data-delivery-id={delivery.id}>
                <th scope="row">
                  {delivery.event_type} <code>{delivery.event_id.slice(0, 8)}</code>
                </th>
                <td>{delivery.partner}</td>
                <td>
                  <span className={`badge status-${delivery.status}`}>{delivery.status === 'dead' ? 'dead letter' : delivery.status}</span>
                </td>
                <td>{delivery.attempts}</td>
                <td>{delivery.last_error ?? (delivery.last_response_code ? `answered ${delivery.last_response_code}` : '—')}</td>
                <td>{delivery.status === 'pending' ? when(delivery.next_attempt_at) : '—'}</td>
                <td>
                  {delivery.status === 'dead' && (
                    <button
                      type="button"
                      disabled={busy === delivery.id}
                      aria-label={`Redeliver ${delivery.event_type} ${delivery.event_id.slice(0, 8)} to ${delivery.partner}`}
                      onClick={() => void redeliver(delivery.id)}
                    >
                      Redeliver
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Inbound({ api, version }: { api: ApiClient; version: number }) {
  const deliveries = useResource(() => expectOk(api.api.admin.embassy.inbound.$get({ query: { limit: '50' } })), [], version);
  return (
    <section className="card wide" aria-labelledby="inbound-heading">
      <h3 id="inbound-heading">Inbound webhooks</h3>
      {deliveries.status === 'error' && (
        <ErrorState title="Could not list the inbound webhooks." error={deliveries.error} onRetry={deliveries.reload} />
      )}
      {deliveries.status === 'loading' && !deliveries.data && <LoadingState label="Listing the inbound webhooks…" />}
      {deliveries.data && deliveries.data.items.length === 0 && <EmptyState>No inbound webhooks yet.</EmptyState>}
      {deliveries.data && deliveries.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Webhook</th>
              <th scope="col">Partner</th>
              <th scope="col">Type</th>
              <th scope="col">Received</th>
              <th scope="col">Answer</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data.items.map((delivery) => (
              <tr key={delivery.id}>
                <th scope="row">
                  <code>{delivery.webhook_id}</code>
                </th>
                <td>{delivery.partner}</td>
                <td>{delivery.event_type}</td>
                <td>{when(delivery.received_at)}</td>
                <td>
                  {delivery.answer_status} {delivery.status.replace('_', ' ')}
                </td>
                <td>{delivery.result ? delivery.result.replaceAll('_', ' ') : delivery.status === 'accepted' ? 'waiting' : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
