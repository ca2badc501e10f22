// Every team's payouts for platform admins: by status, or only the stuck ones (approved or sent, with an error
// or waiting past 10 minutes) with their last error. Cancel (before the transfer is signed) and retry (a failed
// payout as a new request that needs its approvals again) ask for a reason, which goes into the audit log.
import { useState } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, LoadingState, useResource } from '../../shared/ui.tsx';

const FILTERS = ['stuck', 'requested', 'approved', 'submitted', 'confirmed', 'failed', 'cancelled'] as const;
type Filter = (typeof FILTERS)[number] | 'all';
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const short = (hex: string) => `${hex.slice(0, 8)}…${hex.slice(-6)}`;

export function Payouts({ api }: { api: ApiClient }) {
  const [filter, setFilter] = useState<Filter>('stuck');
  const [version, setVersion] = useState(0);
  const [problem, setProblem] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const payouts = useResource(
    () =>
      expectOk(
        api.api.admin.payouts.$get({
          query: filter === 'stuck' ? { stuck: 'true' } : filter === 'all' ? {} : { status: filter },
        }),
      ),
    [filter],
    version,
  );

  const act = async (payoutId: string, action: 'cancel' | 'retry') => {
    const reason = window.prompt(
      action === 'cancel' ? 'Why cancel this payout? (for the audit log)' : 'Why request it again? (for the audit log)',
    );
    if (!reason?.trim()) return;
    setProblem(null);
    setDone(null);
    try {
      const answer =
        action === 'cancel'
          ? await expectOk(api.api.admin.payouts[':payoutId'].cancel.$post({ param: { payoutId }, json: { reason } }))
          : await expectOk(api.api.admin.payouts[':payoutId'].retry.$post({ param: { payoutId }, json: { reason } }));
      setDone(
        action === 'cancel'
          ? `Payout ${short(answer.id)} cancelled.`
          : `Requested again as payout ${short(answer.id)}; it needs its approvals.`,
      );
      setVersion((v) => v + 1);
    } catch (error) {
      setProblem(error);
    }
  };

  return (
    <section id="payouts" aria-labelledby="payouts-heading">
      <div className="toolbar">
        <h2 id="payouts-heading">Payouts</h2>
        <label>
          Show{' '}
          <select value={filter} onChange={(event) => setFilter(event.target.value as Filter)}>
            <option value="all">all</option>
            {FILTERS.map((value) => (
              <option key={value} value={value}>
                {value === 'stuck' ? 'stuck (with an error or waiting)' : value}
              </option>
            ))}
          </select>
        </label>
      </div>
      {done && (
        <p role="status" className="state">
          {done}
        </p>
      )}
      {problem !== null && <ErrorState title="That did not work." error={problem} />}
      {payouts.status === 'loading' && !payouts.data && <LoadingState label="Loading payouts…" />}
      {payouts.status === 'error' && <ErrorState title="Could not load the payouts." error={payouts.error} onRetry={payouts.reload} />}
      {payouts.data && payouts.data.items.length === 0 && <EmptyState>No payouts here.</EmptyState>}
      {payouts.data && payouts.data.items.length > 0 && (
        <table>
          <caption className="visually-hidden">Payouts ({filter})</caption>
          <thead>
            <tr>
              <th scope="col">Team</th>
              <th scope="col">Status</th>
              <th scope="col">Amount → recipient</th>
              <th scope="col">Last error</th>
              <th scope="col">Updated</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {payouts.data.items.map((payout) => (
              <tr key={payout.id}>
                <td>{payout.team_name}</td>
                <td>
                  {payout.status}
                  {payout.stuck ? ' (stuck)' : ''}
                </td>
                <td>
                  {payout.amount} → <code>{short(payout.recipient)}</code>
                </td>
                <td>{payout.last_error ?? '—'}</td>
                <td>{dateFormat.format(new Date(payout.updated_at))}</td>
                <td>
                  {(payout.status === 'requested' || payout.status === 'approved') && (
                    <button type="button" className="secondary" onClick={() => void act(payout.id, 'cancel')}>
                      Cancel
                    </button>
                  )}
                  {payout.status === 'failed' && (
                    <button type="button" onClick={() => void act(payout.id, 'retry')}>
                      Retry
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
