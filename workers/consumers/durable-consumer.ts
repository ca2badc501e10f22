// A durable JetStream pull consumer for the platform's events: every event is handled at most once per
// consumer (its id goes into consumer_processed_events in the same transaction as the handler's writes),
// failures are retried with a growing delay (nak), and a message that still fails after `maxDeliver`
// deliveries — or can never succeed (no event id, unknown type, payload off its schema) — is published to
// the dead-letter subject `<prefix>.dead_letter.<consumer>.<event type>` and terminated.
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
import type { EventPayload, EventType } from '../../functions/_shared/events/catalog.ts';
import { DEAD_LETTER_HEADERS, EVENT_HEADERS } from '../../functions/_shared/events/headers.ts';
import { deadLetterSubjectFor } from '../../functions/_shared/events/streams.ts';
import { checkEventJson } from '../../functions/_shared/events/validate.ts';
import type { Logger } from '../../functions/_shared/log.ts';
import type { Sql } from '../lib/postgres.ts';

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

export type DeadLetterReason = 'missing_event_id' | 'unknown_event_type' | 'payload_schema' | 'handler_failed';

export interface ConsumerHooks {
  handled?(event: { type: string; duplicate: boolean }): void;
  failed?(event: { type: string; deliveryCount: number; error: string }): void;
  deadLettered?(event: { type: string; reason: DeadLetterReason }): void;
}

export interface DurableConsumerOptions {
  nc: NatsConnection;
  jsm: JetStreamManager;
  sql: Sql;
  stream: string;
  subjectPrefix: string;
  /** Durable name; also the `consumer` column of consumer_processed_events. */
  name: string;
  /** Event types this consumer handles; others are acknowledged and skipped. Default: all. */
  eventTypes?: readonly EventType[];
  handle: EventHandler;
  /** Deliveries before a failing message is dead-lettered. */
  maxDeliver: number;
  ackWaitMs: number;
  /** First redelivery delay; doubles per delivery up to 60 s (default 1000). */
  nakDelayMs?: number;
  logger: Logger;
  hooks?: ConsumerHooks;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_NAK_DELAY_MS = 60_000;

/** The consumer's server-side configuration. Redeliveries are unlimited on the server: this module counts
    them and dead-letters, so a message is never dropped silently (even if the process dies mid-handling). */
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

export class DurableConsumer {
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private readonly handledTypes: ReadonlySet<string> | undefined;
  private readonly hooks: ConsumerHooks;

  constructor(private readonly options: DurableConsumerOptions) {
    this.handledTypes = options.eventTypes ? new Set(options.eventTypes) : undefined;
    this.hooks = options.hooks ?? {};
  }

  async start(): Promise<void> {
    const { jsm, stream } = this.options;
    await ensureDurableConsumer(jsm, stream, durableConsumerConfig(this.options));
    const consumer = await jetstream(this.options.nc).consumers.get(stream, this.options.name);
    this.messages = await consumer.consume({ max_messages: 100 });
    this.running = this.consumeAll(this.messages);
    this.options.logger.info('consumer started', { consumer: this.options.name, stream });
  }

  /** Stops pulling; the message being handled is finished (acked or nakked) first. */
  async stop(): Promise<void> {
    await this.messages?.close();
    await this.running;
    this.options.logger.info('consumer stopped', { consumer: this.options.name });
  }

  private async consumeAll(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      try {
        await this.handleMessage(message);
      } catch (error) {
        // recording or dead-lettering failed (database or NATS away): let JetStream redeliver it later
        this.options.logger.error('could not settle a message; it will be redelivered', { error: (error as Error).message });
        message.nak(this.nakDelay(message.info.deliveryCount));
      }
    }
  }

  private async handleMessage(message: JsMsg): Promise<void> {
    const h = message.headers;
    const id = h?.get(EVENT_HEADERS.id) ?? '';
    const type = h?.get(EVENT_HEADERS.type) ?? message.subject.slice(this.options.subjectPrefix.length + 1);
    const deliveryCount = message.info.deliveryCount;
    if (!UUID.test(id)) return this.deadLetter(message, type, 'missing_event_id', `the message carries no event id (${EVENT_HEADERS.id})`);
    if (this.handledTypes && !this.handledTypes.has(type)) {
      message.ack();
      return;
    }
    const check = checkEventJson(type, message.string());
    if (!check.ok) return this.deadLetter(message, type, check.reason, check.detail);
    if (deliveryCount > this.options.maxDeliver) {
      return this.deadLetter(message, type, 'handler_failed', `delivered ${deliveryCount} times without success`);
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
    let duplicate: boolean;
    try {
      duplicate = await this.handleOnce(event);
    } catch (error) {
      const reason = (error as Error).message;
      this.hooks.failed?.({ type, deliveryCount, error: reason });
      if (deliveryCount >= this.options.maxDeliver) {
        return this.deadLetter(message, type, 'handler_failed', `failed ${deliveryCount} times, last: ${reason}`);
      }
      this.options.logger.warn('handler failed; redelivering later', {
        consumer: this.options.name,
        event_id: id,
        delivery: deliveryCount,
        error: reason,
      });
      message.nak(this.nakDelay(deliveryCount));
      return;
    }
    message.ack();
    this.hooks.handled?.({ type, duplicate });
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

  private async deadLetter(message: JsMsg, type: string, reason: DeadLetterReason, detail: string): Promise<void> {
    const { subjectPrefix, name } = this.options;
    const h = natsHeaders();
    for (const [key, values] of message.headers ?? []) {
      if (key !== EVENT_HEADERS.id) for (const value of values) h.append(key, value);
    }
    const eventId = message.headers?.get(EVENT_HEADERS.id);
    // one dead letter per consumer and message, even if this runs twice
    h.set(EVENT_HEADERS.id, `${name}:${eventId || `seq-${message.seq}`}`);
    h.set(DEAD_LETTER_HEADERS.consumer, name);
    h.set(DEAD_LETTER_HEADERS.reason, `${reason}: ${detail}`.slice(0, 1000).replace(/[\r\n]+/g, ' '));
    h.set(DEAD_LETTER_HEADERS.deliveries, String(message.info.deliveryCount));
    h.set(DEAD_LETTER_HEADERS.originalSubject, message.subject);
    h.set(DEAD_LETTER_HEADERS.originalSequence, String(message.seq));
    const subjectType = /^[A-Za-z0-9_.-]+$/.test(type) && type ? type : 'unknown';
    await jetstream(this.options.nc).publish(deadLetterSubjectFor(subjectPrefix, name, subjectType), message.data, { headers: h });
    message.term(reason);
    this.hooks.deadLettered?.({ type, reason });
    this.options.logger.warn('message dead-lettered', { consumer: name, event_id: eventId, reason, detail, stream_sequence: message.seq });
  }

  private nakDelay(deliveryCount: number): number {
    return Math.min(MAX_NAK_DELAY_MS, (this.options.nakDelayMs ?? 1000) * 2 ** Math.max(0, deliveryCount - 1));
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
