// A durable JetStream pull consumer for the platform's events: every event is handled at most once per
// consumer (its id goes into consumer_processed_events in the same transaction as the handler's writes).
// - A handler failure is retried with a growing delay (nak); after `maxDeliver` handler failures the message
//   is published to the dead-letter subject `<prefix>.dead_letter.<consumer>.<event type>` and terminated,
//   as is at once a message that can never succeed (no event id, payload off its schema).
// - The database being away is not the message's fault: the consumer holds the message (and stops pulling)
//   until the database answers again, then handles it on the same delivery. Nothing is dead-lettered for it.
// - An event type this version does not know (a newer producer during a rolling deploy) is left for a newer
//   consumer: nakked with a long delay, logged once per type, counted — never dead-lettered.
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/nats-core';
import type postgres from 'postgres';
import { isEventType, type EventPayload, type EventType } from '../../functions/_shared/events/catalog.ts';
import { DEAD_LETTER_HEADERS, EVENT_HEADERS, REQUEUE_HEADERS } from '../../functions/_shared/events/headers.ts';
import { deadLetterSubjectFor } from '../../functions/_shared/events/streams.ts';
import { checkEventJson } from '../../functions/_shared/events/validate.ts';
import type { Logger } from '../../functions/_shared/log.ts';
import { noErrorReporter, type ErrorReporter } from '../../functions/_shared/sentry.ts';
import { isDatabaseUnavailable, type Sql } from '../lib/postgres.ts';
import { IncidentReporter } from '../lib/sentry.ts';

/** One event as a handler receives it: envelope from the headers, payload validated against the catalog. */
export interface ConsumedEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  version: number;
  correlationId: string | undefined;
  aggregateType: string;
  aggregateId: string;
  /** When the event was written to the outbox (ISO 8601). */
  occurredAt: string;
  payload: EventPayload<T>;
  streamSequence: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
}

/** Runs inside the transaction that records the event as processed: write through `tx` only. */
export type EventHandler = (event: ConsumedEvent, tx: postgres.TransactionSql) => Promise<void>;

export type DeadLetterReason = 'missing_event_id' | 'payload_schema' | 'handler_failed' | 'delivery_limit';

export interface ConsumerHooks {
  handled?(event: { type: string; duplicate: boolean }): void;
  /** The handler failed (database outages are not handler failures). */
  failed?(event: { type: string; deliveryCount: number; handlerFailures: number; error: string }): void;
  deadLettered?(event: { type: string; reason: DeadLetterReason }): void;
  /** A message of an event type this version does not know was left for a newer consumer. */
  deferredUnknownType?(event: { type: string }): void;
  /** The database stopped (false) or started again (true) answering. */
  databaseAvailable?(available: boolean): void;
}

export interface DurableConsumerOptions {
  nc: NatsConnection;
  jsm: JetStreamManager;
  sql: Sql;
  stream: string;
  subjectPrefix: string;
  /** Durable name; also the `consumer` column of consumer_processed_events. */
  name: string;
  /** Event types this consumer handles; other catalog types are acknowledged and skipped. Default: all. */
  eventTypes?: readonly EventType[];
  handle: EventHandler;
  /** Handler failures before a message is dead-lettered (CONSUMER_MAX_DELIVER). Counted by this process:
      waiting out a database outage does not count, nor do deferrals of an unknown event type. */
  maxDeliver: number;
  /** Deliveries after which a message is dead-lettered whatever happened to them, e.g. it ends the process
      each time it is handled (default 20 × maxDeliver). */
  deliveryLimit?: number;
  ackWaitMs: number;
  /** First redelivery delay after a handler failure; doubles per failure up to 60 s (default 1000). */
  nakDelayMs?: number;
  /** How long a message of an unknown event type waits before it is offered again (default 5 minutes). */
  unknownTypeDelayMs?: number;
  /** Longest pause between two checks whether the database answers again (default 5000). */
  databaseProbeMaxMs?: number;
  logger: Logger;
  hooks?: ConsumerHooks;
  /** Sentry: handler failures, dead letters, database outages (once per incident, see IncidentReporter). */
  reporter?: ErrorReporter;
}

/** What the consumer reports to Sentry besides a handler's own error: never a payload. */
export class ConsumerFailure extends Error {
  override name = 'ConsumerFailure';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_NAK_DELAY_MS = 60_000;
/** Retries of a message that lost its connection although the database answered at once, before that
    counts as the message's own failure (a statement of its handler that times out, say). */
const QUICK_DATABASE_RETRIES = 2;
/** Handler failure counts kept in memory at most (messages that failed and then went to another instance). */
const MAX_TRACKED_FAILURES = 10_000;
const MAX_LOGGED_UNKNOWN_TYPES = 1000;

/** The consumer's server-side configuration. Redeliveries are unlimited on the server: this module counts
    handler failures and dead-letters, so a message is never dropped silently (even if the process dies
    mid-handling), and a database outage or an unknown event type never uses up a message's deliveries. */
export function durableConsumerConfig(
  options: Pick<DurableConsumerOptions, 'name' | 'subjectPrefix' | 'ackWaitMs'>,
): Partial<ConsumerConfig> {
  return {
    durable_name: options.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: `${options.subjectPrefix}.>`,
    ack_wait: nanos(options.ackWaitMs),
    max_deliver: -1,
    max_ack_pending: 1000,
  };
}

/** Creates the durable consumer, or updates the settings that may change; idempotent. */
export async function ensureDurableConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig>): Promise<void> {
  try {
    await jsm.consumers.info(stream, config.durable_name!);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
    await jsm.consumers.add(stream, config);
    return;
  }
  await jsm.consumers.update(stream, config.durable_name!, {
    ack_wait: config.ack_wait,
    max_deliver: config.max_deliver,
    max_ack_pending: config.max_ack_pending,
  });
}

class StoppedWhileWaiting extends Error {}

export class DurableConsumer {
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly wakeSleepers = new Set<() => void>();
  private readonly handledTypes: ReadonlySet<string> | undefined;
  private readonly hooks: ConsumerHooks;
  private readonly log: Logger;
  private readonly incidents: IncidentReporter;
  /** Handler failures per stream sequence, for messages that failed and have not been settled yet. */
  private readonly handlerFailures = new Map<number, number>();
  private readonly unknownTypesLogged = new Set<string>();
  /** Since when the database has not answered (undefined: it answers). */
  private databaseDownSince: number | undefined;

  constructor(private readonly options: DurableConsumerOptions) {
    this.handledTypes = options.eventTypes ? new Set(options.eventTypes) : undefined;
    this.hooks = options.hooks ?? {};
    this.log = options.logger;
    this.incidents = new IncidentReporter(options.reporter ?? noErrorReporter);
  }

  async start(): Promise<void> {
    const { jsm, stream } = this.options;
    await ensureDurableConsumer(jsm, stream, durableConsumerConfig(this.options));
    const consumer = await jetstream(this.options.nc).consumers.get(stream, this.options.name);
    this.messages = await consumer.consume({ max_messages: 100 });
    this.running = this.consumeAll(this.messages);
    this.log.info('consumer started', { consumer: this.options.name, stream });
  }

  /** Stops pulling; the message being handled is finished (acked or nakked) first. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of [...this.wakeSleepers]) wake();
    await this.messages?.close();
    await this.running;
    this.log.info('consumer stopped', { consumer: this.options.name });
  }

  private async consumeAll(messages: ConsumerMessages): Promise<void> {
    // one message at a time: while the database is away the loop waits inside a message and pulls no more
    for await (const message of messages) {
      // the ack deadline stays alive while this message is in hand (handler, dead-lettering, a database outage):
      // a redelivery on ack_wait meanwhile would be handled again once the first copy is settled — after a
      // dead letter, by a handler that may work by then
      const keepAlive = setInterval(() => message.working(), Math.max(100, this.options.ackWaitMs / 3));
      try {
        await this.handleMessage(message);
      } catch (error) {
        // dead-lettering failed (NATS away), or the consumer stops while the database is away
        if (!(error instanceof StoppedWhileWaiting)) {
          this.log.error('could not settle a message; it will be redelivered', { error: (error as Error).message });
        }
        message.nak(this.nakDelay(this.handlerFailures.get(message.seq) ?? 1));
      } finally {
        clearInterval(keepAlive);
      }
    }
  }

  private async handleMessage(message: JsMsg): Promise<void> {
    const h = message.headers;
    // a requeued dead letter carries the event id in its own header (its Nats-Msg-Id must be new)
    const id = h?.get(REQUEUE_HEADERS.eventId) || h?.get(EVENT_HEADERS.id) || '';
    const type = h?.get(EVENT_HEADERS.type) || message.subject.slice(this.options.subjectPrefix.length + 1);
    const requeuedFor = h?.get(REQUEUE_HEADERS.consumer);
    if (requeuedFor && requeuedFor !== this.options.name) {
      message.ack(); // put back for another consumer
      return;
    }
    if (!UUID.test(id)) return this.deadLetter(message, type, 'missing_event_id', `the message carries no event id (${EVENT_HEADERS.id})`);
    if (!isEventType(type)) return this.deferUnknownType(message, type);
    if (this.handledTypes && !this.handledTypes.has(type)) {
      message.ack();
      return;
    }
    const check = checkEventJson(type, message.string());
    if (!check.ok) {
      return check.reason === 'unknown_event_type'
        ? this.deferUnknownType(message, type)
        : this.deadLetter(message, type, check.reason, check.detail);
    }
    const deliveryCount = message.info.deliveryCount;
    const deliveryLimit = this.options.deliveryLimit ?? 20 * this.options.maxDeliver;
    if (deliveryCount > deliveryLimit) {
      return this.deadLetter(
        message,
        type,
        'delivery_limit',
        `delivered ${deliveryCount} times without being settled (does handling it end the process?)`,
      );
    }
    const event: ConsumedEvent = {
      id,
      type: check.type,
      version: Number(h?.get(EVENT_HEADERS.version) || 1),
      correlationId: h?.get(EVENT_HEADERS.correlationId) || undefined,
      aggregateType: h?.get(EVENT_HEADERS.aggregateType) ?? '',
      aggregateId: h?.get(EVENT_HEADERS.aggregateId) ?? '',
      occurredAt: h?.get(EVENT_HEADERS.occurredAt) ?? '',
      payload: check.payload,
      streamSequence: message.seq,
      deliveryCount,
    };
    for (let quickRetries = 0; ; quickRetries += 1) {
      try {
        const duplicate = await this.handleOnce(event);
        message.ack();
        this.handlerFailures.delete(message.seq);
        this.hooks.handled?.({ type, duplicate });
        return;
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          const outage = await this.waitForDatabase(error, event);
          // an outage is never the message's fault; losing the connection again and again while the
          // database answers at once is
          if (outage || quickRetries < QUICK_DATABASE_RETRIES) continue;
        }
        return this.handlerFailed(message, event, error);
      }
    }
  }

  /** Records the event id and runs the handler in one transaction; true when the id was already there. */
  private async handleOnce(event: ConsumedEvent): Promise<boolean> {
    return (await this.options.sql.begin(async (tx) => {
      const recorded = await tx`
        insert into public.consumer_processed_events (consumer, event_id, event_type, stream_sequence)
        values (${this.options.name}, ${event.id}::uuid, ${event.type}, ${event.streamSequence})
        on conflict (consumer, event_id) do nothing
        returning 1`;
      if (recorded.length === 0) return true;
      await this.options.handle(event, tx);
      return false;
    })) as boolean;
  }

  private async handlerFailed(message: JsMsg, event: ConsumedEvent, error: unknown): Promise<void> {
    const failures = (this.handlerFailures.get(message.seq) ?? 0) + 1;
    this.handlerFailures.delete(message.seq);
    const reason = error instanceof Error ? error.message : String(error);
    this.hooks.failed?.({ type: event.type, deliveryCount: event.deliveryCount, handlerFailures: failures, error: reason });
    // one report per event type and interval, however many messages and retries fail (other events of the
    // type succeeding in between prove nothing: one bad message would be reported at every retry)
    this.incidents.report(`handler_failed:${event.type}`, error, { ...this.eventTags(event), handler_failures: failures });
    if (failures >= this.options.maxDeliver) {
      return this.deadLetter(message, event.type, 'handler_failed', `failed ${failures} times, last: ${reason}`, event);
    }
    this.handlerFailures.set(message.seq, failures);
    if (this.handlerFailures.size > MAX_TRACKED_FAILURES) this.handlerFailures.delete(this.handlerFailures.keys().next().value!);
    this.log.warn('handler failed; redelivering later', {
      consumer: this.options.name,
      event_id: event.id,
      correlation_id: event.correlationId,
      delivery: event.deliveryCount,
      handler_failures: failures,
      error: reason,
    });
    message.nak(this.nakDelay(failures));
  }

  /**
   * The database did not answer: holds the message (its ack deadline kept alive by consumeAll's timer, pulling
   * nothing else) until it does. True when it was away (an outage), false when it answered at once.
   */
  private async waitForDatabase(error: unknown, event: ConsumedEvent): Promise<boolean> {
    await this.probeUntilAnswered(Math.max(50, this.options.databaseProbeMaxMs ?? 5000), error, event);
    if (this.databaseDownSince === undefined) return false;
    this.log.info('the database answers again; handling messages', {
      consumer: this.options.name,
      unavailable_ms: Date.now() - this.databaseDownSince,
    });
    this.databaseDownSince = undefined;
    this.incidents.recovered('database_unavailable');
    this.hooks.databaseAvailable?.(true);
    return true;
  }

  private async probeUntilAnswered(probeMaxMs: number, error: unknown, event: ConsumedEvent): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      if (this.stopping) throw new StoppedWhileWaiting();
      try {
        await this.options.sql`select 1`;
        return;
      } catch {
        if (this.databaseDownSince === undefined) {
          this.databaseDownSince = Date.now();
          const reason = error instanceof Error ? error.message : String(error);
          this.log.error('the database does not answer; holding messages until it does', { consumer: this.options.name, error: reason });
          this.incidents.report('database_unavailable', error, { ...this.eventTags(event), stage: 'database' });
          this.hooks.databaseAvailable?.(false);
        }
        await this.sleep(Math.min(probeMaxMs, 100 * 2 ** attempt));
      }
    }
  }

  /** Leaves a message of an event type this version does not know for a newer consumer. */
  private deferUnknownType(message: JsMsg, type: string): void {
    const delayMs = this.options.unknownTypeDelayMs ?? 300_000;
    if (!this.unknownTypesLogged.has(type) && this.unknownTypesLogged.size < MAX_LOGGED_UNKNOWN_TYPES) {
      this.unknownTypesLogged.add(type);
      this.log.warn('event type unknown to this consumer version; leaving its messages for a newer one', {
        consumer: this.options.name,
        event_type: type,
        retry_in_ms: delayMs,
        fix: 'deploy the consumer version that knows this type (until then its messages wait, none is lost)',
      });
    }
    this.hooks.deferredUnknownType?.({ type });
    message.nak(delayMs);
  }

  private async deadLetter(message: JsMsg, type: string, reason: DeadLetterReason, detail: string, event?: ConsumedEvent): Promise<void> {
    const { subjectPrefix, name } = this.options;
    const h = natsHeaders();
    for (const [key, values] of message.headers ?? []) {
      if (key !== EVENT_HEADERS.id && key !== REQUEUE_HEADERS.consumer) for (const value of values) h.append(key, value);
    }
    const eventId = message.headers?.get(REQUEUE_HEADERS.eventId) || message.headers?.get(EVENT_HEADERS.id) || undefined;
    // one dead letter per consumer and stream message, even if this runs twice; a requeued copy that fails
    // again is another stream message, so it gets its own
    h.set(EVENT_HEADERS.id, `${name}:${eventId || 'no-id'}:${message.seq}`);
    if (eventId) h.set(REQUEUE_HEADERS.eventId, eventId);
    h.set(DEAD_LETTER_HEADERS.consumer, name);
    h.set(DEAD_LETTER_HEADERS.reason, `${reason}: ${detail}`.slice(0, 1000).replace(/[\r\n]+/g, ' '));
    h.set(DEAD_LETTER_HEADERS.deliveries, String(message.info.deliveryCount));
    h.set(DEAD_LETTER_HEADERS.originalSubject, message.subject);
    h.set(DEAD_LETTER_HEADERS.originalSequence, String(message.seq));
    const subjectType = /^[A-Za-z0-9_.-]+$/.test(type) && type ? type : 'unknown';
    await jetstream(this.options.nc).publish(deadLetterSubjectFor(subjectPrefix, name, subjectType), message.data, { headers: h });
    // no reason on the +TERM: before 2.10.4 nats-server takes only a bare +TERM, ignores `+TERM <reason>` and
    // redelivers the message on ack_wait (Debian's 2.9.10 did: a dead letter came back and was handled again
    // once the handler worked); the reason is in the dead letter's headers
    message.term();
    this.hooks.deadLettered?.({ type, reason });
    // the detail may quote the payload (a JSON parse error does): it goes to the dead letter and the log only
    this.incidents.report(
      `dead_letter:${reason}:${subjectType}`,
      new ConsumerFailure(`${name} dead-lettered a ${subjectType} message: ${reason}`),
      {
        consumer: name,
        event_type: type,
        event_id: eventId,
        correlation_id: event?.correlationId ?? (message.headers?.get(EVENT_HEADERS.correlationId) || undefined),
        stream_sequence: message.seq,
        delivery: message.info.deliveryCount,
        reason,
      },
    );
    this.log.warn('message dead-lettered', { consumer: name, event_id: eventId, reason, detail, stream_sequence: message.seq });
  }

  private eventTags(event: ConsumedEvent) {
    return {
      consumer: this.options.name,
      event_type: event.type,
      event_id: event.id,
      correlation_id: event.correlationId,
      stream_sequence: event.streamSequence,
      delivery: event.deliveryCount,
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleepers.add(done);
    });
  }

  private nakDelay(handlerFailures: number): number {
    return Math.min(MAX_NAK_DELAY_MS, (this.options.nakDelayMs ?? 1000) * 2 ** Math.max(0, handlerFailures - 1));
  }
}

/** Deletes processed-event ids older than the window in small batches (the window must cover the stream's
    max age, or a message still in the stream could be handled again). */
export async function pruneProcessedEventIds(sql: Sql, consumer: string, olderThanMs: number): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await sql`
      delete from public.consumer_processed_events
      where (consumer, event_id) in (
        select consumer, event_id from public.consumer_processed_events
        where consumer = ${consumer} and processed_at < now() - ${olderThanMs} * interval '1 millisecond'
        limit 1000
      )`;
    total += deleted.count;
    if (deleted.count < 1000) return total;
  }
}
