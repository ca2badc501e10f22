// The admin console's API, for platform admins only (capability platform.admin: app_metadata.platform_admin =
// true in the access token; app_metadata is set by the auth service, never by the user): the health of every component, the outbox
// (backlog, oldest unprocessed age, dead letters, relays holding lanes), the streams with their consumers'
// pending counts, and the recent audit log across teams.
import { z } from '@hono/zod-openapi';
import { streamDefinitions } from '../../_shared/events/streams.ts';
import { transactionLimits, withServiceRole } from '../../_shared/db.ts';
import { readOutboxStatus, readStreamStatus, type OutboxStatus, type StreamStatus } from '../../_shared/outbox-status.ts';
import { createRouter, errorResponses, jsonResponse, PageLimit, securedRoute, Timestamp, Uuid } from '../core/route.ts';
import { listRecentAudit } from './admin.queries.ts';

const STATUS_TIMEOUT_MS = 2500;
/** An unprocessed event older than this means the relay is behind or stuck. */
const RELAY_LAG_DEGRADED_SECONDS = 60;

const ComponentStatus = z.enum(['ok', 'degraded', 'down']);
const Component = z.object({ name: z.string(), status: ComponentStatus, detail: z.string() }).openapi('ComponentHealth');
const Consumer = z.object({ name: z.string(), pending: z.number().int(), ack_pending: z.number().int(), redelivered: z.number().int() });
const Stream = z
  .object({ name: z.string(), found: z.boolean(), messages: z.number().int().nullable(), consumers: z.array(Consumer) })
  .openapi('StreamStatus');
const DeadLetter = z.object({
  id: Uuid,
  event_type: z.string(),
  aggregate: z.string(),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  dead_lettered_at: Timestamp,
});
const Outbox = z
  .object({
    backlog: z.number().int().openapi({ description: 'Events not yet published (dead letters excluded)' }),
    oldest_unprocessed_age_seconds: z.number(),
    waiting_for_retry: z.number().int(),
    dead_letters: z.number().int(),
    processed_retained: z.number().int(),
    lanes_held: z.number().int(),
    lane_count: z.number().int(),
    relays: z.array(z.object({ pid: z.number().int(), lanes: z.array(z.number().int()) })),
    newest_dead_letters: z.array(DeadLetter),
  })
  .openapi('OutboxStatus');
const PlatformStatus = z
  .object({
    generated_at: Timestamp,
    environment: z.string(),
    components: z.array(Component),
    outbox: Outbox.nullable(),
    streams: z.array(Stream),
  })
  .openapi('PlatformStatus');

const AuditEntry = z
  .object({
    id: z.string(),
    occurred_at: Timestamp,
    actor_id: Uuid.nullable(),
    actor_name: z.string().nullable(),
    team_id: Uuid.nullable(),
    team_name: z.string().nullable(),
    action: z.string(),
    target_type: z.string(),
    target_id: z.string().nullable(),
    request_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).openapi({ description: 'What the action recorded, e.g. the name of a created channel' }),
  })
  .openapi('AuditEntry');
const AuditQuery = z.strictObject({
  limit: PageLimit,
  before_id: z
    .string()
    .regex(/^[1-9]\d{0,18}$/, { message: 'must be the id of an audit entry (digits), e.g. next_before_id of the previous page' })
    .optional(),
});

const status = securedRoute('platform.admin', {
  method: 'get',
  path: '/status',
  tags: ['admin'],
  summary: 'Platform admins: health of every component, the outbox, and the streams with their consumers',
  responses: { 200: jsonResponse(PlatformStatus, 'The platform now') },
});

const audit = securedRoute('platform.admin', {
  method: 'get',
  path: '/audit',
  tags: ['admin'],
  summary: 'Platform admins: the newest audit log entries across teams',
  request: { query: AuditQuery },
  responses: {
    200: jsonResponse(z.object({ items: z.array(AuditEntry), next_before_id: z.string().nullable() }), 'One page, newest first'),
    ...errorResponses(400),
  },
});

function withTimeout<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${STATUS_TIMEOUT_MS} ms`)), STATUS_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
type Component = z.infer<typeof Component>;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function streamAnswer(stream: StreamStatus): z.infer<typeof Stream> {
  if (!stream.found) return { name: stream.name, found: false, messages: null, consumers: [] };
  const consumers = stream.consumers.map((k) => ({
    name: k.name,
    pending: k.pending,
    ack_pending: k.ackPending,
    redelivered: k.redelivered,
  }));
  return { name: stream.name, found: true, messages: stream.messages, consumers };
}

function relayHealth(outbox: OutboxStatus): Component {
  const held = outbox.laneHolders.reduce((n, h) => n + h.lanes.length, 0);
  const relays = `${plural(outbox.laneHolders.length, 'relay holds', 'relays hold')} ${held}/${outbox.laneCount} lanes`;
  if (held === 0) return { name: 'outbox relay', status: 'down', detail: 'no relay holds a lane: nothing is being published' };
  if (held < outbox.laneCount) return { name: 'outbox relay', status: 'degraded', detail: `${relays}; events of the other lanes wait` };
  if (outbox.oldestUnprocessedAgeSeconds > RELAY_LAG_DEGRADED_SECONDS) {
    return {
      name: 'outbox relay',
      status: 'degraded',
      detail: `${relays}, but the oldest unprocessed event is ${Math.round(outbox.oldestUnprocessedAgeSeconds)} s old`,
    };
  }
  return { name: 'outbox relay', status: 'ok', detail: relays };
}

function streamHealth(streams: StreamStatus[]): Component[] {
  return streams.map((stream) =>
    stream.found
      ? {
          name: `stream ${stream.name}`,
          status: 'ok',
          detail: `${plural(stream.messages, 'message', 'messages')}, ${plural(stream.consumers.length, 'consumer', 'consumers')}`,
        }
      : { name: `stream ${stream.name}`, status: 'down', detail: 'not found: the relay creates it when it starts' },
  );
}

export const adminRoutes = createRouter()
  .openapi(status, async (c) => {
    const { deps } = c.var;
    const [readiness, outbox, streams] = await Promise.allSettled([
      deps.readiness(),
      withTimeout(
        'the outbox query',
        withServiceRole(deps.sql, (tx) => readOutboxStatus(tx), transactionLimits(deps.config)),
      ),
      withTimeout(
        'JetStream',
        (async () => {
          const { jetstreamManager } = await import('@nats-io/jetstream');
          return readStreamStatus(await jetstreamManager(await deps.live.connection()), streamDefinitions(deps.config));
        })(),
      ),
    ]);

    const components: Component[] = [{ name: 'gateway', status: 'ok', detail: `answering in ${deps.config.APP_ENV}` }];
    if (readiness.status === 'fulfilled') {
      for (const [name, check] of Object.entries(readiness.value.checks))
        components.push({ name, status: check.ok ? 'ok' : 'down', detail: check.detail });
    } else {
      components.push({ name: 'readiness', status: 'down', detail: message(readiness.reason) });
    }
    if (outbox.status === 'fulfilled') {
      components.push(relayHealth(outbox.value));
      const dead = outbox.value.deadLetterEvents;
      components.push({
        name: 'dead letters',
        status: dead === 0 ? 'ok' : 'degraded',
        detail:
          dead === 0
            ? 'none'
            : `${dead} events the relay gave up on; inspect public.outbox_dead_letters, requeue with npm run outbox:requeue`,
      });
    } else {
      components.push({ name: 'outbox relay', status: 'down', detail: `the outbox could not be read: ${message(outbox.reason)}` });
    }
    if (streams.status === 'fulfilled') components.push(...streamHealth(streams.value));
    else components.push({ name: 'event streams', status: 'down', detail: `JetStream could not be read: ${message(streams.reason)}` });

    const o = outbox.status === 'fulfilled' ? outbox.value : null;
    return c.json(
      {
        generated_at: new Date().toISOString(),
        environment: deps.config.APP_ENV,
        components,
        outbox: o && {
          backlog: o.backlogEvents,
          oldest_unprocessed_age_seconds: o.oldestUnprocessedAgeSeconds,
          waiting_for_retry: o.waitingForRetryEvents,
          dead_letters: o.deadLetterEvents,
          processed_retained: o.processedEvents,
          lanes_held: o.laneHolders.reduce((n, h) => n + h.lanes.length, 0),
          lane_count: o.laneCount,
          relays: o.laneHolders.map((h) => ({ pid: h.pid, lanes: h.lanes })),
          newest_dead_letters: o.newestDeadLetters.map((d) => ({
            id: d.id,
            event_type: d.eventType,
            aggregate: d.aggregate,
            attempts: d.attempts,
            last_error: d.lastError,
            dead_lettered_at: d.deadLetteredAt,
          })),
        },
        streams: streams.status === 'fulfilled' ? streams.value.map(streamAnswer) : [],
      },
      200,
    );
  })
  .openapi(audit, async (c) => {
    const { limit, before_id: beforeId } = c.req.valid('query');
    const items = await withServiceRole(
      c.var.deps.sql,
      (tx) => listRecentAudit(tx, { beforeId: beforeId ?? null, limit }),
      transactionLimits(c.var.deps.config),
    );
    return c.json({ items, next_before_id: items.length === limit ? items[items.length - 1]!.id : null }, 200);
  });
