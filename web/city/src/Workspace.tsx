// The signed-in city: my teams, the selected team's channels and members, the selected channel's messages,
// and a thread panel for followups. Live events mark views stale; stale views reload through the API.
import { useEffect, useMemo, useState } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { useBooleanFlag, useGatewayFlags } from '../../shared/flags.ts';
import type { LiveStatus } from '../../shared/live.ts';
import type { Session, SessionStore } from '../../shared/session.ts';
import { EmptyState, ErrorState, LoadingState, SignedInAs, useResource } from '../../shared/ui.tsx';
import { AgentsPanel } from './AgentsPanel.tsx';
import { ChannelView } from './ChannelView.tsx';
import { Invitations } from './Invitations.tsx';
import { RwaInventory } from './RwaInventory.tsx';
import { GovernancePage } from './GovernancePage.tsx';
import { WalletPage } from './WalletPage.tsx';
import { ProjectsBoard } from './ProjectsBoard.tsx';
import { TeamSidebar } from './TeamSidebar.tsx';
import { ThreadPanel } from './ThreadPanel.tsx';
import { useLiveVersions } from './live-versions.ts';
import type { Channel } from './types.ts';

const liveLabels: Record<LiveStatus, string> = {
  connecting: 'Connecting live updates…',
  live: 'Live updates on',
  reconnecting: 'Live updates interrupted; reconnecting…',
};

export function Workspace({ api, store, session }: { api: ApiClient; store: SessionStore; session: Session }) {
  const { versionOf, status } = useLiveVersions(() => store.accessToken());
  useGatewayFlags(api);
  const announcement = useBooleanFlag('city.announcement', false);
  const teams = useResource(() => expectOk(api.api.teams.$get()), [], versionOf('teams'));
  const [teamId, setTeamId] = useState<string | null>(null);
  const [channel, setChannel] = useState<Channel | null>(null);
  const channelId = channel?.id ?? null;
  const [threadId, setThreadId] = useState<string | null>(null);
  // what the main area shows for the team: a channel, the projects board, or the proposals
  const [view, setView] = useState<'channels' | 'projects' | 'governance' | 'wallet'>('channels');

  const teamList = teams.data?.items;
  useEffect(() => {
    if (teamList && teamList.length > 0 && !teamList.some((t) => t.id === teamId)) setTeamId(teamList[0]!.id);
  }, [teamList, teamId]);

  const members = useResource(
    teamId ? () => expectOk(api.api.teams[':teamId'].members.$get({ param: { teamId } })) : null,
    [teamId],
    versionOf(`team:${teamId}`),
  );
  const agents = useResource(
    teamId ? () => expectOk(api.api.agents.$get({ query: { team_id: teamId } })) : null,
    [teamId],
    versionOf(`agents:${teamId}`),
  );
  // an agent's replies are authored by its own principal: shown as its @handle
  const names = useMemo(
    () =>
      new Map([
        ...(agents.data?.items ?? []).map((a): [string, string] => [a.principal_id, `@${a.name} (agent)`]),
        ...(members.data?.items ?? []).map((m): [string, string] => [m.user_id, m.display_name]),
      ]),
    [members.data, agents.data],
  );
  const team = teamList?.find((t) => t.id === teamId);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to messages
      </a>
      <header className="app-header">
        <h1>DAARION.city</h1>
        <SignedInAs email={session.email} onSignOut={() => void store.signOut()}>
          <span role="status" className={`live-status ${status}`}>
            {liveLabels[status]}
          </span>
        </SignedInAs>
      </header>
      {announcement && (
        // behind the city.announcement flag: operators switch it on in the admin console, no deploy needed
        <p className="announcement" role="status">
          Scheduled maintenance tonight, 22:00–22:30 UTC: messages may arrive a few minutes late.
        </p>
      )}
      <div className="workspace">
        <aside className="sidebar" aria-label="Teams and channels">
          <Invitations api={api} version={versionOf('teams')} onJoined={teams.reload} />
          {teams.status === 'loading' && !teams.data && <LoadingState label="Loading your teams…" />}
          {teams.status === 'error' && <ErrorState title="Could not load your teams." error={teams.error} onRetry={teams.reload} />}
          {teamList && teamList.length === 0 && (
            <EmptyState>You are not in a team yet. Ask a team owner to invite {session.email}.</EmptyState>
          )}
          {teamList && teamList.length > 0 && (
            <nav aria-label="Teams">
              <h2>Teams</h2>
              <ul className="nav-list">
                {teamList.map((t) => (
                  <li key={t.id}>
                    <button
                      type="button"
                      aria-current={t.id === teamId}
                      onClick={() => {
                        setTeamId(t.id);
                        setChannel(null);
                        setThreadId(null);
                      }}
                    >
                      {t.name} <span className="role">({t.role})</span>
                    </button>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {team && (
            <nav aria-label="Team work">
              <ul className="nav-list">
                <li>
                  <button type="button" aria-current={view === 'projects'} onClick={() => setView('projects')}>
                    Projects board
                  </button>
                </li>
                <li>
                  <button type="button" aria-current={view === 'governance'} onClick={() => setView('governance')}>
                    Proposals
                  </button>
                </li>
                <li>
                  <button type="button" aria-current={view === 'wallet'} onClick={() => setView('wallet')}>
                    Wallet
                  </button>
                </li>
              </ul>
            </nav>
          )}
          {team && (
            <TeamSidebar
              api={api}
              team={team}
              members={members}
              channelsVersion={versionOf(`team:${team.id}`)}
              channelId={channelId}
              onSelectChannel={(selected) => {
                setChannel(selected);
                setThreadId(null);
                setView('channels');
              }}
              // the channels may load after a click on Proposals or the board: the view stays where the person put it
              onDefaultChannel={setChannel}
            />
          )}
          {team && (
            <AgentsPanel
              key={`agents-${team.id}`}
              api={api}
              teamId={team.id}
              agents={agents}
              channel={view === 'channels' ? channel : null}
              version={versionOf(`agents:${team.id}`)}
            />
          )}
          {team && <RwaInventory key={team.id} api={api} team={team} />}
        </aside>
        <main id="main" className="channel" tabIndex={-1}>
          {team && view === 'projects' ? (
            <ProjectsBoard key={team.id} api={api} teamId={team.id} version={versionOf(`projects:${team.id}`)} />
          ) : team && view === 'governance' ? (
            <GovernancePage key={team.id} api={api} teamId={team.id} version={versionOf(`governance:${team.id}`)} />
          ) : team && view === 'wallet' ? (
            <WalletPage key={team.id} api={api} teamId={team.id} userId={session.userId} />
          ) : channel ? (
            <ChannelView
              key={channel.id}
              api={api}
              channel={channel}
              names={names}
              version={versionOf(`channel:${channel.id}`)}
              openThreadId={threadId}
              onOpenThread={setThreadId}
            />
          ) : (
            team && <EmptyState>Pick a channel, or create one.</EmptyState>
          )}
        </main>
        {threadId && (
          <ThreadPanel
            key={threadId}
            api={api}
            messageId={threadId}
            names={names}
            version={versionOf(`thread:${threadId}`)}
            onClose={() => setThreadId(null)}
          />
        )}
      </div>
    </>
  );
}
