// A team's wallet: the treasury's balance of each token (as the wallet worker last read it from the chain),
// payouts — request one (an Idempotency-Key per submitted form, so a double click is one payout), approve
// another person's, cancel — and the member's RINGK credits and stakes. Amounts are base units, shown as the
// API's exact decimal strings. Gifts between members are GiftsPanel's.
import { useState, type FormEvent } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, Field, LoadingState, useResource } from '../../shared/ui.tsx';
import { AmountField, MemoField } from './wallet-fields.tsx';
import { GiftsPanel } from './GiftsPanel.tsx';

const STATUS_LABELS: Record<string, string> = {
  requested: 'Requested (waiting for approval)',
  approved: 'Approved (being sent)',
  submitted: 'Sent (waiting for confirmations)',
  confirmed: 'Confirmed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};
const short = (hex: string) => `${hex.slice(0, 8)}…${hex.slice(-6)}`;

export function WalletPage({ api, teamId, userId }: { api: ApiClient; teamId: string; userId: string | undefined }) {
  const param = { teamId };
  const tokens = useResource(() => expectOk(api.api.teams[':teamId'].wallet.tokens.$get({ param })), [teamId]);
  const payouts = useResource(() => expectOk(api.api.teams[':teamId'].payouts.$get({ param, query: {} })), [teamId]);
  const balances = useResource(() => expectOk(api.api.teams[':teamId'].wallet.balances.$get({ param })), [teamId]);
  const stakes = useResource(() => expectOk(api.api.teams[':teamId'].stakes.$get({ param })), [teamId]);
  const [problem, setProblem] = useState<unknown>(null);
  const [form, setForm] = useState({ recipient: '', amount: '', memo: '' });
  const [stakeForm, setStakeForm] = useState({ amount: '', lockDays: '0' });

  const tokenList = tokens.data?.items ?? [];
  const token = tokenList[0];
  const myCredits = balances.data?.items.find((b) => b.account === `member:${userId}`)?.balance ?? '0';

  const act = async (work: () => Promise<unknown>, reload: () => void) => {
    setProblem(null);
    try {
      await work();
      reload();
    } catch (error) {
      setProblem(error);
    }
  };
  const requestPayout = (event: FormEvent) => {
    event.preventDefault();
    if (!token) return;
    void act(async () => {
      await expectOk(
        api.api.teams[':teamId'].payouts.$post({
          param,
          header: { 'idempotency-key': crypto.randomUUID() },
          json: { chain_id: token.chain_id, token: token.address, recipient: form.recipient, amount: form.amount, memo: form.memo },
        }),
      );
      setForm({ recipient: '', amount: '', memo: '' });
    }, payouts.reload);
  };
  const stake = (event: FormEvent) => {
    event.preventDefault();
    void act(
      async () => {
        await expectOk(
          api.api.teams[':teamId'].stakes.$post({ param, json: { amount: stakeForm.amount, lock_days: Number(stakeForm.lockDays) } }),
        );
        setStakeForm({ amount: '', lockDays: '0' });
      },
      () => {
        stakes.reload();
        balances.reload();
      },
    );
  };

  return (
    <section aria-labelledby="wallet-heading" className="wallet-view">
      <header className="channel-header">
        <h2 id="wallet-heading">Wallet</h2>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            tokens.reload();
            payouts.reload();
            balances.reload();
            stakes.reload();
          }}
        >
          Refresh
        </button>
      </header>
      {problem !== null && <ErrorState title="That did not work." error={problem} />}

      <section aria-labelledby="treasury-heading">
        <h3 id="treasury-heading">Treasury</h3>
        {tokens.status === 'loading' && !tokens.data && <LoadingState label="Loading the treasury…" />}
        {tokens.status === 'error' && <ErrorState title="Could not load the treasury." error={tokens.error} onRetry={tokens.reload} />}
        {tokens.data && tokenList.length === 0 && <EmptyState>No token is set up on a chain yet.</EmptyState>}
        {tokenList.length > 0 && (
          <table>
            <caption className="visually-hidden">Treasury balance per token</caption>
            <thead>
              <tr>
                <th scope="col">Token</th>
                <th scope="col">Chain</th>
                <th scope="col">Treasury balance (base units)</th>
              </tr>
            </thead>
            <tbody>
              {tokenList.map((t) => (
                <tr key={`${t.chain_id}-${t.symbol}`}>
                  <td>{t.symbol}</td>
                  <td>{t.chain_id}</td>
                  <td className="quantity">{t.treasury_balance ?? 'not read yet'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="payouts-heading">
        <h3 id="payouts-heading">Payouts</h3>
        {token && (
          <form onSubmit={requestPayout} className="inline-form" aria-label="Request a payout">
            <Field label="Recipient address" hint="0x and 40 hexadecimal digits">
              {({ id, describedBy }) => (
                <input
                  id={id}
                  aria-describedby={describedBy}
                  value={form.recipient}
                  required
                  pattern="0x[0-9a-fA-F]{40}"
                  onChange={(event) => setForm({ ...form, recipient: event.target.value })}
                />
              )}
            </Field>
            <AmountField
              label={`Amount of ${token.symbol} (base units)`}
              value={form.amount}
              onChange={(amount) => setForm({ ...form, amount })}
            />
            <MemoField label="Memo" value={form.memo} onChange={(memo) => setForm({ ...form, memo })} />
            <button type="submit">Request payout</button>
          </form>
        )}
        {payouts.status === 'loading' && !payouts.data && <LoadingState label="Loading payouts…" />}
        {payouts.status === 'error' && <ErrorState title="Could not load the payouts." error={payouts.error} onRetry={payouts.reload} />}
        {payouts.data && payouts.data.items.length === 0 && <EmptyState>No payouts yet.</EmptyState>}
        <ul className="payout-list">
          {payouts.data?.items.map((payout) => (
            <li key={payout.id} className="payout" aria-label={`Payout of ${payout.amount} to ${payout.recipient}`}>
              <p>
                <strong>{payout.amount}</strong> to <code>{short(payout.recipient)}</code>
                {payout.memo ? ` — ${payout.memo}` : ''}
              </p>
              <p className="payout-status">
                {STATUS_LABELS[payout.status] ?? payout.status} · approvals {payout.approvals.length} of {payout.approval_threshold}
                {payout.tx_hash ? (
                  <>
                    {' '}
                    · tx <code>{short(payout.tx_hash)}</code>
                  </>
                ) : null}
              </p>
              {payout.last_error && <p className="field-error">Last error: {payout.last_error}</p>}
              {payout.status === 'requested' && (
                <div role="group" aria-label={`Actions on the payout to ${payout.recipient}`} className="vote-buttons">
                  {payout.requested_by !== userId && !payout.approvals.includes(userId ?? '') && (
                    <button
                      type="button"
                      onClick={() =>
                        void act(
                          () =>
                            expectOk(
                              api.api.teams[':teamId'].payouts[':payoutId'].approve.$post({ param: { teamId, payoutId: payout.id } }),
                            ),
                          payouts.reload,
                        )
                      }
                    >
                      Approve
                    </button>
                  )}
                  <button
                    type="button"
                    className="secondary"
                    onClick={() =>
                      void act(
                        () =>
                          expectOk(api.api.teams[':teamId'].payouts[':payoutId'].cancel.$post({ param: { teamId, payoutId: payout.id } })),
                        payouts.reload,
                      )
                    }
                  >
                    Cancel
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="staking-heading">
        <h3 id="staking-heading">Staking</h3>
        <p>
          My RINGK credits: <strong>{myCredits}</strong>
        </p>
        <form onSubmit={stake} className="inline-form" aria-label="Stake credits">
          <AmountField label="Amount to stake" value={stakeForm.amount} onChange={(amount) => setStakeForm({ ...stakeForm, amount })} />
          <Field label="Lock (days)">
            {({ id, describedBy }) => (
              <input
                id={id}
                aria-describedby={describedBy}
                type="number"
                min={0}
                max={3650}
                value={stakeForm.lockDays}
                onChange={(event) => setStakeForm({ ...stakeForm, lockDays: event.target.value })}
              />
            )}
          </Field>
          <button type="submit">Stake</button>
        </form>
        {stakes.data && stakes.data.items.length === 0 && <EmptyState>No stakes yet.</EmptyState>}
        <ul className="stake-list">
          {stakes.data?.items.map((s) => (
            <li key={s.id}>
              {s.amount} {s.status === 'locked' ? `locked until ${new Date(s.locked_until).toLocaleDateString()}` : 'withdrawn'}
              {s.status === 'locked' && s.user_id === userId && new Date(s.locked_until) <= new Date() && (
                <button
                  type="button"
                  className="secondary"
                  onClick={() =>
                    void act(
                      () => expectOk(api.api.teams[':teamId'].stakes[':stakeId'].withdraw.$post({ param: { teamId, stakeId: s.id } })),
                      () => {
                        stakes.reload();
                        balances.reload();
                      },
                    )
                  }
                >
                  Withdraw
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>

      <GiftsPanel api={api} teamId={teamId} userId={userId} onCreditsChanged={balances.reload} />
    </section>
  );
}
