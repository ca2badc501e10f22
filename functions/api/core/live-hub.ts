// The gateway's source of live events: one NATS connection per gateway process (opened on first use, with
// the same client as the readiness probe) and one core subscription per live event type, fanned out to
// every open live stream of the process. It sees every team's events; the live route filters them by the
// caller's team membership before anything leaves the process.
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

export interface LiveListener {
  onEvent(event: LiveEvent): void;
  /** The NATS connection dropped: events may be lost until it is back, so the listener should start over. */
  onInterrupted(): void;
}

export interface LiveHub {
  /** Resolves once the NATS subscriptions are registered with the server (and the connection is up): every
      event published after that reaches `listener`, until it is interrupted. The returned function unsubscribes. */
  subscribe(listener: LiveListener): Promise<() => void>;
  /** The shared NATS connection (the admin status reads JetStream through it). */
  connection(): Promise<NatsConnection>;
  close(): Promise<void>;
}

type NatsSettings = Pick<Config, 'NATS_URL' | 'NATS_USER' | 'NATS_PASSWORD' | 'NATS_SUBJECT_PREFIX'>;

const CONNECT_TIMEOUT_MS = 5000;

export function createLiveHub(settings: NatsSettings, logger: Logger): LiveHub {
  const listeners = new Set<LiveListener>();
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
        interruptAll();
      });
      void (async () => {
        for await (const status of nc.status()) {
          if (status.type === 'disconnect') {
            logger.warn('live events interrupted: NATS disconnected', { server: status.server });
            interruptAll();
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
  const interruptAll = () => {
    for (const listener of [...listeners]) {
      listeners.delete(listener);
      listener.onInterrupted();
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
    connection,
    async close() {
      listeners.clear();
      const pending = connecting;
      connecting = null;
      subscribed = null;
      if (pending) await pending.then((nc) => nc.drain()).catch(() => {});
    },
  };
}
