// A consumer's dead letters (`<prefix>.dead_letter.<consumer>.<event type>` in `<NATS_STREAM_EVENTS>_DLQ`, see
// durable-consumer.ts), put back into the events stream for that consumer once their cause is fixed
// (npm run consumer:requeue-dlq). The copy carries the event id in Microdao-Event-Id and a fresh Nats-Msg-Id
// (the original one would be dropped as a duplicate within the stream's window), and Microdao-Requeued-For
// names the consumer, so every other consumer of the stream skips it. The consumer is idempotent by event
// id, so requeueing an event it has processed since is harmless. A requeued message leaves the dead-letter
// stream once the events stream has stored its copy; if it fails again it is dead-lettered again.
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { DEAD_LETTER_HEADERS, EVENT_HEADERS, REQUEUE_HEADERS } from '../../functions/_shared/events/headers.ts';
import { DEAD_LETTER_TOKEN } from '../../functions/_shared/events/streams.ts';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const DEAD_LETTER_ONLY = new Set<string>([...Object.values(DEAD_LETTER_HEADERS), EVENT_HEADERS.id, REQUEUE_HEADERS.consumer]);

export interface DeadLetter {
  /** Sequence in the dead-letter stream. */
  sequence: number;
  eventId: string | undefined;
  eventType: string;
  reason: string;
  /** When it was dead-lettered. */
  at: Date;
  /** Where it goes back to: the subject it was consumed from. */
  originalSubject: string;
}

export type RequeueOutcome =
  { status: 'requeued' | 'would_requeue'; deadLetter: DeadLetter } | { status: 'skipped' | 'failed'; deadLetter: DeadLetter; why: string };

export interface RequeueOptions {
  /** NATS_STREAM_EVENTS; its dead letters are in `<stream>_DLQ`. */
  stream: string;
  subjectPrefix: string;
  consumer: string;
  /** Only what was dead-lettered at or after this time. */
  since?: Date;
  dryRun?: boolean;
  /** Called for each dead letter as it is handled. */
  onOutcome?: (outcome: RequeueOutcome) => void;
}

/** Something the operator has to fix before a requeue can work: said in a sentence, exit code 1. */
export class RequeueRefused extends Error {}

export const deadLetterStreamOf = (stream: string) => `${stream}_DLQ`;

function readDeadLetter(message: JsMsg, subjectPrefix: string, consumer: string): DeadLetter {
  const h = message.headers;
  const dedupId = h?.get(EVENT_HEADERS.id) ?? '';
  const typeFromSubject = message.subject.slice(`${subjectPrefix}.${DEAD_LETTER_TOKEN}.${consumer}.`.length);
  const eventType = h?.get(EVENT_HEADERS.type) || typeFromSubject;
  return {
    sequence: message.seq,
    eventId: h?.get(REQUEUE_HEADERS.eventId) || UUID.exec(dedupId)?.[0],
    eventType,
    reason: h?.get(DEAD_LETTER_HEADERS.reason) ?? '',
    at: new Date(Number(BigInt(message.info.timestampNanos) / 1_000_000n)),
    originalSubject: h?.get(DEAD_LETTER_HEADERS.originalSubject) || `${subjectPrefix}.${typeFromSubject}`,
  };
}

/** Republishes a consumer's dead letters (all, or since a time) to the events stream for that consumer. */
export async function requeueConsumerDeadLetters(
  nc: NatsConnection,
  jsm: JetStreamManager,
  options: RequeueOptions,
): Promise<RequeueOutcome[]> {
  const { stream, subjectPrefix, consumer } = options;
  const dlq = deadLetterStreamOf(stream);
  await ensureExists(
    () => jsm.streams.info(dlq),
    `there is no dead-letter stream ${dlq}: check NATS_STREAM_EVENTS, or run \`npm run outbox:provision\``,
  );
  await ensureExists(
    () => jsm.consumers.info(stream, consumer),
    `stream ${stream} has no consumer '${consumer}': requeued messages would reach nobody (list the consumers with \`npm run outbox:status\`)`,
  );

  // an ephemeral reader over this consumer's dead letters, gone a minute after the last use
  const reader = await jsm.consumers.add(dlq, {
    filter_subject: `${subjectPrefix}.${DEAD_LETTER_TOKEN}.${consumer}.>`,
    ack_policy: AckPolicy.None,
    ...(options.since
      ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: options.since.toISOString() }
      : { deliver_policy: DeliverPolicy.All }),
    inactive_threshold: 60_000_000_000,
    mem_storage: true,
  });
  const outcomes: RequeueOutcome[] = [];
  const js = jetstream(nc);
  try {
    const messages = await js.consumers.get(dlq, reader.name);
    for (let remaining = reader.num_pending; remaining > 0;) {
      let received = 0;
      for await (const message of await messages.fetch({ max_messages: Math.min(remaining, 256), expires: 5000 })) {
        received += 1;
        const outcome = await requeueOne(message);
        outcomes.push(outcome);
        options.onOutcome?.(outcome);
      }
      if (received === 0) break; // expired without messages: they were removed meanwhile
      remaining -= received;
    }
  } finally {
    await jsm.consumers.delete(dlq, reader.name).catch(() => {});
  }
  return outcomes;

  async function requeueOne(message: JsMsg): Promise<RequeueOutcome> {
    const deadLetter = readDeadLetter(message, subjectPrefix, consumer);
    if (!deadLetter.eventId) {
      return { status: 'skipped', deadLetter, why: 'it carries no event id, so the consumer would dead-letter it again' };
    }
    if (options.dryRun) return { status: 'would_requeue', deadLetter };
    const h = natsHeaders();
    for (const [key, values] of message.headers ?? []) if (!DEAD_LETTER_ONLY.has(key)) for (const value of values) h.append(key, value);
    h.set(REQUEUE_HEADERS.eventId, deadLetter.eventId);
    h.set(REQUEUE_HEADERS.consumer, consumer);
    try {
      // requeueing the same dead letter twice within the stream's window stores it once
      await js.publish(deadLetter.originalSubject, message.data, {
        headers: h,
        msgID: `requeue:${consumer}:${deadLetter.eventId}:${deadLetter.sequence}`,
        expect: { streamName: stream },
      });
    } catch (error) {
      return { status: 'failed', deadLetter, why: `the events stream did not take it: ${(error as Error).message}` };
    }
    await jsm.streams.deleteMessage(dlq, deadLetter.sequence, false).catch(() => {
      // already gone (another requeue, or the stream's age limit): the copy is in the events stream anyway
    });
    return { status: 'requeued', deadLetter };
  }
}

async function ensureExists(lookup: () => Promise<unknown>, refusal: string): Promise<void> {
  try {
    await lookup();
  } catch (error) {
    const notFound =
      error instanceof JetStreamApiError &&
      (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound);
    throw notFound ? new RequeueRefused(refusal) : error;
  }
}
