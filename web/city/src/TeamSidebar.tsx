// One team's channels (pick one, create one) and members (see them, invite someone by email).
import { useEffect, useState, type FormEvent } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { describeError } from '../../shared/api-errors.ts';
import { EmptyState, ErrorState, Field, LoadingState, useResource, type Resource } from '../../shared/ui.tsx';
import type { Channel, Member, Team } from './types.ts';

export function TeamSidebar(props: {
  api: ApiClient;
  team: Team;
  members: Resource<{ items: Member[] }>;
  channelsVersion: number;
  channelId: string | null;
  /** The person picked a channel (it becomes what the main area shows). */
  onSelectChannel: (channel: Channel) => void;
  /** The channel the team opens on, chosen on arrival: it must not take the main area from a view picked meanwhile. */
  onDefaultChannel: (channel: Channel) => void;
}) {
  const { api, team, members, channelId, onSelectChannel, onDefaultChannel } = props;
  const channels = useResource(() => expectOk(api.api.channels.$get({ query: { team_id: team.id } })), [team.id], props.channelsVersion);
  const list = channels.data?.items;

  useEffect(() => {
    // on arrival in a team: its #general, else its first channel
    if (list && list.length > 0 && channelId === null) onDefaultChannel(list.find((c) => c.name === 'general') ?? list[0]!);
  }, [list, channelId, onDefaultChannel]);

  const canAddMembers = team.role === 'owner' || team.role === 'admin';
  return (
    <>
      <nav aria-label={`Channels of ${team.name}`}>
        <h2>Channels</h2>
        {channels.status === 'loading' && !list && <LoadingState label="Loading channels…" />}
        {channels.status === 'error' && (
          <ErrorState title="Could not load the channels." error={channels.error} onRetry={channels.reload} />
        )}
        {list && list.length === 0 && <EmptyState>No channels yet.</EmptyState>}
        {list && list.length > 0 && (
          <ul className="nav-list">
            {list.map((c) => (
              <li key={c.id}>
                <button type="button" aria-current={c.id === channelId} onClick={() => onSelectChannel(c)}>
                  # {c.name}
                </button>
              </li>
            ))}
          </ul>
        )}
      </nav>
      <NewChannelForm
        api={api}
        teamId={team.id}
        onCreated={(channel) => {
          channels.reload();
          onSelectChannel(channel);
        }}
      />
      <section aria-labelledby="members-heading" className="members">
        <h2 id="members-heading">Members</h2>
        {members.status === 'loading' && !members.data && <LoadingState label="Loading members…" />}
        {members.status === 'error' && <ErrorState title="Could not load the members." error={members.error} onRetry={members.reload} />}
        {members.data && (
          <ul className="member-list">
            {members.data.items.map((m) => (
              <li key={m.user_id}>
                {m.display_name} <span className="role">({m.role})</span>
              </li>
            ))}
          </ul>
        )}
        {canAddMembers && <InviteForm api={api} teamId={team.id} canAddOwners={team.role === 'owner'} />}
      </section>
    </>
  );
}

function NewChannelForm({ api, teamId, onCreated }: { api: ApiClient; teamId: string; onCreated: (channel: Channel) => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const channel = await expectOk(api.api.channels.$post({ json: { team_id: teamId, name: name.trim() } }));
      setName('');
      onCreated(channel);
    } catch (failure) {
      setError(describeError(failure).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create a channel">
      <Field label="New channel" hint="Lowercase letters, digits, - and _" error={error}>
        {({ id, describedBy, invalid }) => (
          <input
            id={id}
            value={name}
            required
            maxLength={80}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setName(e.target.value)}
          />
        )}
      </Field>
      <button type="submit" disabled={busy || !name.trim()}>
        {busy ? 'Creating…' : 'Create channel'}
      </button>
    </form>
  );
}

function InviteForm({ api, teamId, canAddOwners }: { api: ApiClient; teamId: string; canAddOwners: boolean }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<'member' | 'admin' | 'owner'>('member');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const invitation = await expectOk(
        api.api.teams[':teamId'].invitations.$post({ param: { teamId }, json: { email: email.trim(), role, expires_in_days: 7 } }),
      );
      // the same answer whether or not someone has an account: they see it when they sign in with this address
      setDone(`Invitation sent to ${invitation.email} as ${invitation.role}; they join when they accept.`);
      setEmail('');
    } catch (failure) {
      setError(describeError(failure).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} aria-label="Invite a member">
      <Field label="Invite by email" hint="They join when they accept; the invitation lasts 7 days." error={error}>
        {({ id, describedBy, invalid }) => (
          <input
            id={id}
            type="email"
            required
            value={email}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setEmail(e.target.value)}
          />
        )}
      </Field>
      <Field label="Role">
        {({ id }) => (
          <select id={id} value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
            <option value="member">member</option>
            <option value="admin">admin</option>
            {canAddOwners && <option value="owner">owner</option>}
          </select>
        )}
      </Field>
      <button type="submit" disabled={busy || !email.trim()}>
        {busy ? 'Sending…' : 'Send invitation'}
      </button>
      <p role="status" className="hint">
        {done}
      </p>
    </form>
  );
}
