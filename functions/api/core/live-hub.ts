// The gateway's source of live events: one NATS connection per gateway process (opened on first use, with
// the same client as the readiness probe) and one core subscription per live event type, fanned out in memory
// to the open live streams of the process through per-team routing tables: an event reaches only the streams
// of its team's members (and the stream of the person it makes a member), so a stream never sees, queues or
// filters another team's events. Each event is checked and rendered as its SSE frame once, here, whatever the
// number of streams. The hub also holds the process's live-stream limits: how many streams one principal may
// keep open, and how many events a stream may have waiting for a slow client.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Config } from '../../_shared/config.ts';
import { subjectFor, type EventType } from '../../_shared/events/catalog.ts';
import { checkEventJson } from '../../_shared/events/validate.ts';
import { EVENT_HEADERS } from '../../_shared/events/headers.ts';
import type { Logger } from '../../_shared/log.ts';

/** The events browsers are told about: each names the team it belongs to, and carries ids (and names members can
    see anyway), never message text. */
export const LIVE_EVENT_TYPES = [
  'team.created',
  'team.member_added',
  'channel.created',
  'channel.archived',
  'message.created',
  'message.edited',
  'message.deleted',
  // a file attached to a message that viewers may already show (ids only)
  'file.attached',
  // agent run progress (ids, status and an error code only)
  'agent_run.queued',
  'agent_run.in_progress',
  'agent_run.requires_action',
  'agent_run.completed',
  'agent_run.failed',
  'agent_run.cancelled',
  'agent_run.expired',
  // projects and governance: boards and tallies update live
  'project.created',
  'project.updated',
  'task.created',
  'task.updated',
  'task.status_changed',
  'task.assignees_changed',
  'proposal.created',
  'proposal.vote_cast',
  'proposal.state_changed',
] as const satisfies readonly EventType[];

export interface LiveEvent {
  /** The outbox event id. */
  id: string;
  type: (typeof LIVE_EVENT_TYPES)[number];
  teamId: string;
  payload: Record<string, unknown>;
  /** The user this event makes a member of `teamId` (team.member_added, team.created), if any. */
  joins?: string;
  /** The event as one Server-Sent Events frame, rendered once for every stream. */
  frame: string;
}

/** Where a listener's events come from: its principal's teams, and events that make the principal a member. */
export interface LiveRoute {
  principalId: string;
  teamIds: Iterable<string>;
}

/** Ends a subscription; `refreshTeams` re-reads the listener's teams and routes it to them. */
export interface LiveSubscription {
  (): void;
  /** Routes the listener to the teams `read` returns, plus any team it joined (by an event) while `read` ran. */
  refreshTeams(read: () => Promise<Set<string>>): Promise<Set<string>>;
}

/** Why the hub stopped a listener: NATS dropped (events may be lost) or the gateway is shutting down. */
export type LiveInterruption = 'nats_interrupted' | 'shutdown';

export interface LiveListener {
  onEvent(event: LiveEvent): void;
  /** The listener will get no more events: it should end its stream so the client reconnects and refetches. */
  onInterrupted(reason: LiveInterruption): void;
}

export interface LiveLimits {
  /** Open streams per principal in this process (a browser tab each); one more is refused with 429. */
  maxStreamsPerPrincipal: number;
  /** Events waiting for one stream's client; past it the stream ends with a `resync` event. */
  maxQueuedEvents: number;
}

export const DEFAULT_LIVE_LIMITS: LiveLimits = { maxStreamsPerPrincipal: 20, maxQueuedEvents: 500 };

export interface LiveHub {
  /** Resolves once the NATS subscriptions are registered with the server (and the connection is up): every
      event published after that reaches `listener` (only those of `route`'s teams, and those that make its
      principal a member — whose team is then routed to it too — when a route is given), until it is
      interrupted. The returned function unsubscribes. */
  subscribe(listener: LiveListener, route?: LiveRoute): Promise<LiveSubscription>;
  /** Counts a stream of `principalId` against its limit: a release function, or null when it has as many open
      as it may. */
  admitStream(principalId: string): (() => void) | null;
  readonly limits: LiveLimits;
  /** The shared NATS connection (the admin status reads JetStream through it). */
  connection(): Promise<NatsConnection>;
  /** Ends every open stream (each gets `onInterrupted('shutdown')`) and closes the connection. */
  close(): Promise<void>;
}

type NatsSettings = Pick<Config, 'NATS_URL' | 'NATS_USER' | 'NATS_PASSWORD' | 'NATS_SUBJECT_PREFIX'>;

const CONNECT_TIMEOUT_MS = 5000;

export function createLiveHub(settings: NatsSettings, logger: Logger, limits: LiveLimits = DEFAULT_LIVE_LIMITS): LiveHub {
  const listeners = new Set<LiveListener>();
  const unrouted = new Set<LiveListener>(); // every event (tests, tools)
  const byTeam = new Map<string, Set<LiveListener>>();
  const byPrincipal = new Map<string, Set<LiveListener>>();
  const teamsOf = new Map<LiveListener, Set<string>>();
  const joinedWhileReading = new Map<LiveListener, Set<string>>();
  const streamsOf = new Map<string, number>();
  let connecting: Promise<NatsConnection> | null = null;
  let subscribed: Promise<Subscription[]> | null = null;

  const connection = () => {
    connecting ??= (async () => {
      const { connect } = await import('@nats-io/transport-node');
      const nc = await connect({
        servers: settings.NATS_URL.split(',').map((s) => s.trim()),
        user: settings.NATS_USER,
        pass: settings.NATS_PASSWORD,
        name: 'microdao-api-live',
        timeout: CONNECT_TIMEOUT_MS,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
      });
      // a connection closed for good (not a reconnect) is replaced on next use
      void nc.closed().then(() => {
        connecting = null;
        subscribed = null;
        interruptAll('nats_interrupted');
      });
      void (async () => {
        for await (const status of nc.status()) {
          if (status.type === 'disconnect') {
            logger.warn('live events interrupted: NATS disconnected', { server: status.server });
            interruptAll('nats_interrupted');
          }
        }
      })();
      return nc;
    })();
    connecting.catch(() => (connecting = null));
    return connecting;
  };

  const addTo = <K>(table: Map<K, Set<LiveListener>>, key: K, listener: LiveListener) => {
    const set = table.get(key);
    if (set) set.add(listener);
    else table.set(key, new Set([listener]));
  };
  const removeFrom = <K>(table: Map<K, Set<LiveListener>>, key: K, listener: LiveListener) => {
    const set = table.get(key);
    if (set?.delete(listener) && set.size === 0) table.delete(key);
  };
  const routeToTeams = (listener: LiveListener, teamIds: Iterable<string>) => {
    const next = new Set(teamIds);
    const current = teamsOf.get(listener) ?? new Set<string>();
    for (const team of current) if (!next.has(team)) removeFrom(byTeam, team, listener);
    for (const team of next) if (!current.has(team)) addTo(byTeam, team, listener);
    teamsOf.set(listener, next);
  };
  const remove = (listener: LiveListener, principalId?: string) => {
    listeners.delete(listener);
    unrouted.delete(listener);
    for (const team of teamsOf.get(listener) ?? []) removeFrom(byTeam, team, listener);
    teamsOf.delete(listener);
    joinedWhileReading.delete(listener);
    if (principalId !== undefined) removeFrom(byPrincipal, principalId, listener);
  };

  const deliver = (event: LiveEvent) => {
    for (const listener of unrouted) listener.onEvent(event);
    const members = byTeam.get(event.teamId);
    if (members) for (const listener of members) listener.onEvent(event);
    if (event.joins === undefined) return;
    for (const listener of byPrincipal.get(event.joins) ?? []) {
      if (members?.has(listener)) continue; // had it already
      // the new team's next events reach the stream before its membership is read again
      joinedWhileReading.get(listener)?.add(event.teamId);
      routeToTeams(listener, [...(teamsOf.get(listener) ?? []), event.teamId]);
      listener.onEvent(event);
    }
  };
  const interruptAll = (reason: LiveInterruption) => {
    for (const listener of [...listeners]) {
      remove(listener);
      listener.onInterrupted(reason);
    }
    byPrincipal.clear();
  };

  const subscribeAll = () => {
    subscribed ??= (async () => {
      const nc = await connection();
      const subscriptions = LIVE_EVENT_TYPES.map((type) =>
        nc.subscribe(subjectFor(settings.NATS_SUBJECT_PREFIX, type), {
          callback: (error, message) => {
            if (error) return logger.warn('live subscription error', { error: error.message });
            const checked = checkEventJson(type, message.string());
            const id = message.headers?.get(EVENT_HEADERS.id) ?? '';
            if (!checked.ok) return logger.warn('live event does not match the catalog', { type, event_id: id, detail: checked.detail });
            const payload = checked.payload as Record<string, unknown> & { team_id: string };
            deliver({ id, type, teamId: payload.team_id, payload, joins: joinerOf(type, payload), frame: sseFrame(type, id, payload) });
          },
        }),
      );
      await nc.flush(); // the server has registered the subscriptions once it answers this PING
      return subscriptions;
    })();
    subscribed.catch(() => (subscribed = null));
    return subscribed;
  };

  return {
    async subscribe(listener, route) {
      listeners.add(listener);
      if (route) {
        routeToTeams(listener, route.teamIds);
        addTo(byPrincipal, route.principalId, listener);
      } else unrouted.add(listener);
      const unsubscribe = () => remove(listener, route?.principalId);
      try {
        await subscribeAll();
        await (await connection()).flush(); // answered only while connected (after a reconnect, once it is back)
      } catch (error) {
        unsubscribe();
        throw error;
      }
      return Object.assign(unsubscribe, {
        async refreshTeams(read: () => Promise<Set<string>>) {
          const joined = new Set<string>();
          joinedWhileReading.set(listener, joined);
          try {
            const teams = await read();
            if (listeners.has(listener) && route) routeToTeams(listener, [...teams, ...joined]);
            return teams;
          } finally {
            if (joinedWhileReading.get(listener) === joined) joinedWhileReading.delete(listener);
          }
        },
      });
    },
    admitStream(principalId) {
      const open = streamsOf.get(principalId) ?? 0;
      if (open >= limits.maxStreamsPerPrincipal) return null;
      streamsOf.set(principalId, open + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (streamsOf.get(principalId) ?? 1) - 1;
        if (left > 0) streamsOf.set(principalId, left);
        else streamsOf.delete(principalId);
      };
    },
    limits,
    connection,
    async close() {
      interruptAll('shutdown'); // open streams end now, not at their next keepalive or deadline
      const pending = connecting;
      connecting = null;
      subscribed = null;
      if (pending) await pending.then((nc) => nc.drain()).catch(() => {});
    },
  };
}

/** The user an event makes a member of its team, if any. */
function joinerOf(type: LiveEvent['type'], payload: Record<string, unknown>): string | undefined {
  const joiner = type === 'team.member_added' ? payload.user_id : type === 'team.created' ? payload.created_by : undefined;
  return typeof joiner === 'string' ? joiner : undefined;
}

/** An event as the SSE frame hono's writeSSE would write (`event`, `data`, `id` lines); JSON has no raw newline. */
function sseFrame(type: string, id: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify(payload)}\nid: ${id.replace(/[\r\n]/g, '')}\n\n`;
}
