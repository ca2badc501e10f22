// The gateway's source of live events: one NATS connection per gateway process (opened on first use, with
// the same client as the readiness probe) and one core subscription per live event type, fanned out to
// every open live stream of the process. It sees every team's events; the live route filters them by the
// caller's team membership before it queues them. The hub also holds the process's live-stream limits: how
// many streams one principal may keep open, and how many events a stream may have waiting for a slow client.
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
      event published after that reaches `listener`, until it is interrupted. The returned function unsubscribes. */
  subscribe(listener: LiveListener): Promise<() => void>;
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

  const deliver = (event: LiveEvent) => {
    for (const listener of listeners) listener.onEvent(event);
  };
  const interruptAll = (reason: LiveInterruption) => {
    for (const listener of [...listeners]) {
      listeners.delete(listener);
      listener.onInterrupted(reason);
    }
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
            deliver({ id, type, teamId: payload.team_id, payload });
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
    async subscribe(listener) {
      listeners.add(listener);
      try {
        await subscribeAll();
        await (await connection()).flush(); // answered only while connected (after a reconnect, once it is back)
      } catch (error) {
        listeners.delete(listener);
        throw error;
      }
      return () => void listeners.delete(listener);
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
