// The Gift Fabric in the city: send some of my RINGK credits to another member (an Idempotency-Key per
// submitted form, so a double click is one gift), and the team's gift feed with each gift's status. A gift is
// sent at once and delivered (or refused) by the gift-fabric consumer a moment later, so the feed is polled
// while any gift is still on its way.
import { useEffect, useState, type FormEvent } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, Field, LoadingState, useResource } from '../../shared/ui.tsx';
import { AmountField, MemoField } from './wallet-fields.tsx';

const STATUS_LABELS: Record<string, string> = {
  sent: 'Sent (on its way)',
  delivered: 'Delivered',
  refused: 'Refused',
};
const POLL_MS = 1500;

export function GiftsPanel(props: { api: ApiClient; teamId: string; userId: string | undefined; onCreditsChanged: () => void }) {
  const { api, teamId, userId, onCreditsChanged } = props;
  const members = useResource(() => expectOk(api.api.teams[':teamId'].members.$get({ param: { teamId } })), [teamId]);
  const gifts = useResource(() => expectOk(api.api.gifts.$get({ query: { team_id: teamId } })), [teamId]);
  const [form, setForm] = useState({ recipient: '', amount: '', memo: '' });
  const [problem, setProblem] = useState<unknown>(null);
  const [sending, setSending] = useState(false);

  const names = new Map((members.data?.items ?? []).map((m) => [m.user_id, m.display_name]));
  const nameOf = (id: string) => (id === userId ? 'me' : (names.get(id) ?? 'a former member'));
  const others = (members.data?.items ?? []).filter((m) => m.user_id !== userId);
  const inFlight = (gifts.data?.items ?? []).some((g) => g.status === 'sent');

  // poll while a gift is on its way; a delivery changes balances, so the wallet's are reloaded too
  const { reload } = gifts;
  useEffect(() => {
    if (!inFlight) return;
    const timer = setTimeout(() => {
      reload();
      onCreditsChanged();
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [inFlight, gifts.data, reload, onCreditsChanged]);

  const send = (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    setSending(true);
    void expectOk(
      api.api.gifts.$post({
        header: { 'idempotency-key': crypto.randomUUID() },
        json: { team_id: teamId, recipient_id: form.recipient, amount: form.amount, memo: form.memo },
      }),
    )
      .then(() => {
        setForm({ recipient: '', amount: '', memo: '' });
        gifts.reload();
      })
      .catch(setProblem)
      .finally(() => setSending(false));
  };

  return (
    <section aria-labelledby="gifts-heading">
      <h3 id="gifts-heading">Gifts</h3>
      {problem !== null && <ErrorState title="The gift was not sent." error={problem} />}
      <form onSubmit={send} className="inline-form" aria-label="Send a gift">
        <Field label="Gift to">
          {({ id, describedBy }) => (
            <select
              id={id}
              aria-describedby={describedBy}
              value={form.recipient}
              required
              onChange={(event) => setForm({ ...form, recipient: event.target.value })}
            >
              <option value="">Choose a member</option>
              {others.map((m) => (
                <option key={m.user_id} value={m.user_id}>
                  {m.display_name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <AmountField label="Credits to give" value={form.amount} onChange={(amount) => setForm({ ...form, amount })} />
        <MemoField label="Message" value={form.memo} onChange={(memo) => setForm({ ...form, memo })} />
        <button type="submit" disabled={sending}>
          Send gift
        </button>
      </form>
      {gifts.status === 'loading' && !gifts.data && <LoadingState label="Loading gifts…" />}
      {gifts.status === 'error' && <ErrorState title="Could not load the gifts." error={gifts.error} onRetry={gifts.reload} />}
      {gifts.data && gifts.data.items.length === 0 && <EmptyState>No gifts yet.</EmptyState>}
      <ul className="gift-list" aria-live="polite">
        {gifts.data?.items.map((gift) => (
          <li
            key={gift.id}
            className="gift"
            aria-label={`Gift of ${gift.amount} from ${nameOf(gift.sender_id)} to ${nameOf(gift.recipient_id)}`}
          >
            <p>
              <strong>{gift.amount}</strong> from {nameOf(gift.sender_id)} to {nameOf(gift.recipient_id)}
              {gift.memo ? ` — ${gift.memo}` : ''}
            </p>
            <p className="payout-status">
              {STATUS_LABELS[gift.status] ?? gift.status} · {new Date(gift.created_at).toLocaleString()}
            </p>
            {gift.refusal_reason && <p className="field-error">Why: {gift.refusal_reason}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
