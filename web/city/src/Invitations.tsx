// The signed-in person's pending invitations, each with Accept and Decline: nobody joins a team without saying
// yes. Accepting reloads the teams (the new one appears in the list).
import { useState } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { describeError } from '../../shared/api-errors.ts';
import { ErrorState, useResource } from '../../shared/ui.tsx';
import type { MyInvitation } from './types.ts';

export function Invitations({ api, version, onJoined }: { api: ApiClient; version: number; onJoined: () => void }) {
  const invitations = useResource(() => expectOk(api.api.invitations.mine.$get()), [], version);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();

  const answer = async (invitation: MyInvitation, accept: boolean) => {
    setBusyId(invitation.id);
    setError(undefined);
    setDone(undefined);
    try {
      const param = { param: { invitationId: invitation.id } };
      await expectOk(
        accept ? api.api.invitations[':invitationId'].accept.$post(param) : api.api.invitations[':invitationId'].decline.$post(param),
      );
      setDone(accept ? `You joined ${invitation.team_name}.` : `You declined ${invitation.team_name}.`);
      invitations.reload();
      if (accept) onJoined();
    } catch (failure) {
      setError(describeError(failure).message);
      invitations.reload();
    } finally {
      setBusyId(null);
    }
  };

  const items = invitations.data?.items ?? [];
  return (
    <section aria-labelledby="invitations-heading" className="invitations" hidden={items.length === 0 && !done && !error}>
      <h2 id="invitations-heading">Invitations</h2>
      {invitations.status === 'error' && (
        <ErrorState title="Could not load your invitations." error={invitations.error} onRetry={invitations.reload} />
      )}
      <ul className="invitation-list">
        {items.map((invitation) => (
          <li key={invitation.id}>
            <p>
              <strong>{invitation.team_name}</strong> — {invitation.invited_by_name} invites you as {invitation.role}.
            </p>
            <div className="actions">
              <button
                type="button"
                disabled={busyId !== null}
                aria-label={`Accept the invitation to ${invitation.team_name}`}
                onClick={() => void answer(invitation, true)}
              >
                Accept
              </button>
              <button
                type="button"
                className="secondary"
                disabled={busyId !== null}
                aria-label={`Decline the invitation to ${invitation.team_name}`}
                onClick={() => void answer(invitation, false)}
              >
                Decline
              </button>
            </div>
          </li>
        ))}
      </ul>
      {error && (
        <p role="alert" className="field-error">
          {error}
        </p>
      )}
      <p role="status" className="hint">
        {done}
      </p>
    </section>
  );
}
