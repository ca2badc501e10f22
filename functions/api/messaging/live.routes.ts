// GET /api/live: Server-Sent Events telling a signed-in user that something changed in one of their teams
// (a message posted, edited or deleted; a channel created or archived; a member added). Events carry ids,
// never message text: the app then fetches through the normal routes, under RLS. Tenancy: the caller's teams
// are read under RLS with the caller's own claims, and an event is written only if its team is one of
// them; membership is re-read when the caller joins a team and every MEMBERSHIP_REFRESH_MS (so a removal
// takes effect within that time). The hub routes only the caller's teams' events (and those that make the
// caller a member) to the stream, so other teams' events never reach it; each arrives as a rendered frame. Bounds: each
// principal keeps at most `maxStreamsPerPrincipal` streams open per gateway process (429 live_stream_limit past
// it), and a stream whose client reads slower than events arrive holds at most `maxQueuedEvents`: past it the
// stream ends with a final `resync` event (the client reconnects and refetches) instead of buffering without end.
// The stream also ends when the access token expires (the client reconnects with a fresh one), after
// LIVE_MAX_MS, when the gateway loses NATS (events could be missed meanwhile) or shuts down; the last two also
// send `resync` first.
import { z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { ApiError } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import type { LiveEvent, LiveInterruption, LiveSubscription } from '../core/live-hub.ts';
import { createRouter, errorResponses, securedRoute } from '../core/route.ts';
import { listActingTeamIds } from './teams.queries.ts';

const KEEPALIVE_MS = 15_000;
const MEMBERSHIP_REFRESH_MS = 30_000;
const LIVE_MAX_MS = 15 * 60_000;
const SUBSCRIBE_TIMEOUT_MS = 5000;

/** `work`, or a rejection after `ms` (then `onLate` cleans up whatever `work` still produces). */
function withTimeout<T>(work: Promise<T>, ms: number, onLate: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate();
      reject(new Error(`NATS did not confirm the subscription within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const live = securedRoute('live.subscribe', {
  method: 'get',
  path: '/',
  tags: ['live'],
  summary: 'Live events of my teams (Server-Sent Events; ids only, fetch the data through the other routes)',
  description:
    'First event `ready` (the subscription is active), then one event per change, named by its type (e.g. `message.created`) ' +
    'with the outbox event id as the SSE id and the payload (ids) as JSON data. Comment lines keep the connection alive. ' +
    'The stream ends when the access token expires; reconnect with a fresh token and refetch. A final `resync` event ' +
    '({"reason": "too_slow" | "nats_interrupted" | "shutdown"}) says events may have been missed: reconnect and refetch. ' +
    'At most 20 streams per principal per gateway instance (429 `live_stream_limit`).',
  responses: {
    200: {
      description: 'An event stream',
      content: { 'text/event-stream': { schema: z.string().openapi({ example: 'event: ready\ndata: {"teams":1}\n\n' }) } },
    },
    ...errorResponses(429, 503),
  },
});

/** Why a stream ends early with a `resync` event: the client should reconnect and refetch. */
type ResyncReason = LiveInterruption | 'too_slow';

export const liveRoutes = createRouter().openapi(live, async (c) => {
  const { deps, principal, logger } = c.var;
  const release = deps.live.admitStream(principal.id);
  if (!release) {
    throw new ApiError(
      429,
      'live_stream_limit',
      `You have ${deps.live.limits.maxStreamsPerPrincipal} live streams open already; close a tab or window and try again.`,
    );
  }
  let handedOver = false; // once streaming starts, the stream's own cleanup releases the slot
  try {
    const myTeamIds = async () => new Set(await inRequestTransaction(c, (tx) => listActingTeamIds(tx)));
    let teams = await myTeamIds();
    let refreshedAt = Date.now();

    const { maxQueuedEvents } = deps.live.limits;
    const queue: LiveEvent[] = [];
    let wake: (() => void) | undefined;
    // false once the client goes away, NATS drops, the gateway shuts down or the client falls too far behind
    let open = true;
    let resync: ResyncReason | undefined;
    const stop = (reason?: ResyncReason) => {
      open = false;
      resync ??= reason;
      queue.length = 0; // nothing more will be sent: free it now
      wake?.();
    };
    let subscription: LiveSubscription;
    try {
      const subscribing = deps.live.subscribe(
        {
          // routed by the hub: only the caller's teams' events and those that make the caller a member arrive
          onEvent: (event) => {
            if (!open) return;
            if (queue.length >= maxQueuedEvents) return stop('too_slow');
            queue.push(event);
            wake?.();
          },
          onInterrupted: (reason) => stop(reason),
        },
        { principalId: principal.id, teamIds: teams },
      );
      subscription = await withTimeout(subscribing, SUBSCRIBE_TIMEOUT_MS, () => void subscribing.then((late) => late()).catch(() => {}));
    } catch (error) {
      logger.warn('live events unavailable', { error: error instanceof Error ? error.message : String(error) });
      throw new ApiError(
        503,
        'live_unavailable',
        'Live updates are unavailable right now; the app keeps working, reload to see new messages.',
      );
    }

    const deadline = Math.min(Date.now() + LIVE_MAX_MS, principal.expiresAt);
    const refreshTeams = async () => {
      teams = await subscription.refreshTeams(myTeamIds);
      refreshedAt = Date.now();
    };

    c.header('X-Accel-Buffering', 'no'); // proxies must pass events on as they come
    const response = streamSSE(
      c,
      async (stream) => {
        stream.onAbort(() => stop());
        try {
          await stream.writeSSE({ event: 'ready', data: JSON.stringify({ teams: teams.size }) });
          while (open && Date.now() < deadline) {
            if (queue.length === 0) {
              const waitMs = Math.min(KEEPALIVE_MS, deadline - Date.now());
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, Math.max(0, waitMs));
                wake = () => (clearTimeout(timer), resolve());
              });
              wake = undefined;
              if (!open) break;
              if (queue.length === 0) {
                await stream.write(': keepalive\n\n');
                continue;
              }
            }
            if (Date.now() - refreshedAt > MEMBERSHIP_REFRESH_MS) await refreshTeams();
            for (const event of queue.splice(0)) {
              if (!open) break;
              if (!teams.has(event.teamId) && event.joins === principal.id) await refreshTeams();
              if (!teams.has(event.teamId)) continue;
              await stream.write(event.frame);
            }
          }
          if (resync && !stream.aborted) await stream.writeSSE({ event: 'resync', data: JSON.stringify({ reason: resync }) });
        } finally {
          subscription();
          release();
        }
      },
      async (error) => {
        logger.warn('live stream ended by an error', { error: error.message });
      },
    );
    handedOver = true;
    return response;
  } finally {
    if (!handedOver) release();
  }
});
