// A team's proposals: make a signal proposal, vote (and change the vote) while voting is open, watch the
// tally move live (by members, or by staked RINGK where the team weighs votes so), and see each outcome and its
// execution (done by the governance scheduler, not here): a treasury proposal shows its payout's chain status.
import { useState, type FormEvent } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, Field, LoadingState, useResource } from '../../shared/ui.tsx';

type Choice = 'for' | 'against' | 'abstain';
const CHOICES: { choice: Choice; label: string }[] = [
  { choice: 'for', label: 'For' },
  { choice: 'against', label: 'Against' },
  { choice: 'abstain', label: 'Abstain' },
];
const PAYOUT_LABELS: Record<string, string> = {
  requested: 'requested',
  approved: 'approved, waiting to be sent',
  submitted: 'sent, waiting for confirmations',
  confirmed: 'confirmed on chain',
  failed: 'failed',
  cancelled: 'cancelled',
};
const STATE_LABELS: Record<string, string> = {
  pending: 'Pending (voting not open yet)',
  active: 'Active (voting open)',
  canceled: 'Canceled',
  defeated: 'Defeated',
  succeeded: 'Succeeded (waiting for execution)',
  queued: 'Queued (waiting for the treasury)',
  executed: 'Executed',
  expired: 'Expired',
};

/** Why a queued proposal is not executed yet, as the scheduler recorded it. */
const outcomeError = (outcome: Record<string, unknown> | null): string | undefined =>
  (outcome?.error as { message?: string } | undefined)?.message;

export function GovernancePage({ api, teamId, version }: { api: ApiClient; teamId: string; version: number }) {
  const proposals = useResource(() => expectOk(api.api.governance.proposals.$get({ query: { team_id: teamId } })), [teamId], version);
  const [title, setTitle] = useState('');
  const [problem, setProblem] = useState<unknown>(null);

  const act = async (work: () => Promise<unknown>) => {
    setProblem(null);
    try {
      await work();
      proposals.reload();
    } catch (error) {
      setProblem(error);
    }
  };
  const propose = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      await expectOk(api.api.governance.proposals.$post({ json: { kind: 'signal', team_id: teamId, title } }));
      setTitle('');
    });
  };

  return (
    <section aria-labelledby="governance-heading" className="governance-view">
      <header className="channel-header">
        <h2 id="governance-heading">Proposals</h2>
        <button type="button" className="secondary" onClick={proposals.reload}>
          Refresh
        </button>
      </header>
      <form onSubmit={propose} className="inline-form">
        <Field label="New proposal" hint="A signal proposal: the team says yes or no.">
          {({ id, describedBy }) => (
            <input
              id={id}
              aria-describedby={describedBy}
              value={title}
              maxLength={200}
              required
              onChange={(event) => setTitle(event.target.value)}
            />
          )}
        </Field>
        <button type="submit">Propose</button>
      </form>
      {problem !== null && <ErrorState title="That did not work." error={problem} />}
      {proposals.status === 'loading' && !proposals.data && <LoadingState label="Loading proposals…" />}
      {proposals.status === 'error' && (
        <ErrorState title="Could not load the proposals." error={proposals.error} onRetry={proposals.reload} />
      )}
      {proposals.data && proposals.data.items.length === 0 && <EmptyState>No proposals yet.</EmptyState>}
      <ul className="proposal-list">
        {proposals.data?.items.map((proposal) => (
          <li key={proposal.id} className="proposal" aria-label={proposal.title}>
            <h3>{proposal.title}</h3>
            <p className="proposal-state">{STATE_LABELS[proposal.state] ?? proposal.state}</p>
            {proposal.tally.vote_weight === 'staked_ringk' ? (
              <p className="tally" aria-label={`Tally of ${proposal.title}`}>
                Staked RINGK (base units) for {proposal.tally.for_weight} · against {proposal.tally.against_weight} · abstain{' '}
                {proposal.tally.abstain_weight} — of {proposal.tally.eligible_weight} staked when voting opened; quorum{' '}
                {proposal.tally.quorum_percent}% {proposal.tally.quorum_reached ? 'reached' : 'not reached'}
              </p>
            ) : (
              <p className="tally" aria-label={`Tally of ${proposal.title}`}>
                For {proposal.tally.for} · Against {proposal.tally.against} · Abstain {proposal.tally.abstain} — of{' '}
                {proposal.tally.eligible_voters} members; quorum {proposal.tally.quorum_percent}%{' '}
                {proposal.tally.quorum_reached ? 'reached' : 'not reached'}
              </p>
            )}
            {proposal.state === 'active' && (
              <div role="group" aria-label={`Vote on ${proposal.title}`} className="vote-buttons">
                {CHOICES.map(({ choice, label }) => (
                  <button
                    key={choice}
                    type="button"
                    className={proposal.my_vote === choice ? undefined : 'secondary'}
                    aria-pressed={proposal.my_vote === choice}
                    onClick={() =>
                      void act(() =>
                        expectOk(
                          api.api.governance.proposals[':proposalId'].vote.$post({ param: { proposalId: proposal.id }, json: { choice } }),
                        ),
                      )
                    }
                  >
                    {label}
                  </button>
                ))}
              </div>
            )}
            {proposal.my_vote && <p className="hint">You voted {proposal.my_vote}.</p>}
            {proposal.executed_at && <p className="hint">Executed {new Date(proposal.executed_at).toLocaleString()}.</p>}
            {proposal.payout && (
              <p className="hint" aria-label={`Payout of ${proposal.title}`}>
                Payout {PAYOUT_LABELS[proposal.payout.status] ?? proposal.payout.status}
                {proposal.payout.tx_hash && <> · transaction {proposal.payout.tx_hash.slice(0, 10)}…</>}
                {proposal.payout.last_error && <> · {proposal.payout.last_error}</>}
              </p>
            )}
            {proposal.state === 'queued' && typeof outcomeError(proposal.outcome) === 'string' && (
              <p className="hint">Not paid yet: {outcomeError(proposal.outcome)}</p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
