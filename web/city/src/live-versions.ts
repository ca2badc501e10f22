// Turns live events into "this view is stale" counters: a view reloads when its counter changes.
// Keys: `teams` (my teams), `team:<id>` (its channels and members), `projects:<team>` (its boards),
// `governance:<team>` (its proposals and tallies), `channel:<id>` (top-level messages),
// `thread:<id>` (a message's followups), `agents:<team>` (its agents and their runs).
import { useCallback, useEffect, useRef, useState } from 'react';
import { apiBaseUrl } from '../../shared/config.ts';
import { openLiveFeed, type LiveEvent, type LiveStatus } from '../../shared/live.ts';

export type Versions = Record<string, number>;

export function keysTouchedBy(event: LiveEvent): string[] {
  const p = event.payload;
  const id = (name: string) => (typeof p[name] === 'string' ? (p[name] as string) : undefined);
  switch (event.type) {
    case 'message.created':
    case 'message.edited':
    case 'message.deleted': {
      const parent = id('parent_id');
      const keys = [`channel:${id('channel_id')}`, `thread:${id('message_id')}`];
      if (parent) keys.push(`thread:${parent}`);
      return keys;
    }
    case 'file.attached':
      return [`channel:${id('channel_id')}`, `thread:${id('message_id')}`];
    case 'channel.created':
    case 'channel.archived':
      return [`team:${id('team_id')}`];
    case 'team.member_added':
      return ['teams', `team:${id('team_id')}`];
    case 'team.created':
      return ['teams'];
    case 'project.created':
    case 'project.updated':
      return [`projects:${id('team_id')}`];
    case 'task.created':
    case 'task.updated':
    case 'task.status_changed':
    case 'task.assignees_changed':
      return [`projects:${id('team_id')}`];
    case 'proposal.created':
    case 'proposal.vote_cast':
    case 'proposal.state_changed':
      return [`governance:${id('team_id')}`];
    case 'agent_run.queued':
    case 'agent_run.in_progress':
    case 'agent_run.requires_action':
    case 'agent_run.completed':
    case 'agent_run.failed':
    case 'agent_run.cancelled':
    case 'agent_run.expired':
      return [`agents:${id('team_id')}`];
    default:
      return [];
  }
}

/** Opens the live feed for the session; returns the staleness counters and the feed's status. */
export function useLiveVersions(accessToken: () => Promise<string | null>): { versionOf: (key: string) => number; status: LiveStatus } {
  const [versions, setVersions] = useState<{ epoch: number; keys: Versions }>({ epoch: 0, keys: {} });
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const tokenRef = useRef(accessToken);
  tokenRef.current = accessToken;

  useEffect(
    () =>
      openLiveFeed({
        url: `${apiBaseUrl}/api/live`,
        accessToken: () => tokenRef.current(),
        onStatus: setStatus,
        // after a (re)connect anything may have changed while we were away: every view reloads
        onReady: () => setVersions((v) => ({ ...v, epoch: v.epoch + 1 })),
        onEvent: (event) =>
          setVersions((v) => {
            const keys = { ...v.keys };
            for (const key of keysTouchedBy(event)) keys[key] = (keys[key] ?? 0) + 1;
            return { ...v, keys };
          }),
      }),
    [],
  );

  const versionOf = useCallback((key: string) => versions.epoch * 1_000_000 + (versions.keys[key] ?? 0), [versions]);
  return { versionOf, status };
}
