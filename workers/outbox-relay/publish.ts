// Publishing one claimed batch: every event goes out at once except that an aggregate's events go one after
// another — the next only after the stream acknowledged the previous — so a lost or refused message can
// never be overtaken by its successor (reconnect buffers, a server restart or a poison event included).
import { headers as natsHeaders } from '@nats-io/nats-core';
import { subjectFor, type EventType } from '../../functions/_shared/events/catalog.ts';
import { EVENT_HEADERS } from '../../functions/_shared/events/headers.ts';
import { checkEventJson } from '../../functions/_shared/events/validate.ts';
import { PublishFailure, type JetStreamAsyncPublisher, type PubAck } from '../lib/jetstream-publisher.ts';
import type { FailureReason, RelayHooks } from './hooks.ts';
import { aggregateKey, type OutboxRow } from './store.ts';

export type PublishOutcome =
  | { status: 'published'; row: OutboxRow; ack: PubAck }
  | { status: 'failed'; row: OutboxRow; reason: FailureReason; detail: string; poison: boolean }
  /** Not attempted: an earlier event of the same aggregate failed in this batch. */
  | { status: 'held_back'; row: OutboxRow };

const POISON: ReadonlySet<FailureReason> = new Set(['unknown_event_type', 'payload_schema', 'payload_too_large', 'no_stream']);

export interface BatchPublishContext {
  publisher: JetStreamAsyncPublisher;
  subjectPrefix: string;
  /** Whether some stream takes the subject: tells "no stream" (poison) from "JetStream unavailable". */
  streamTakesSubject: (subject: string) => Promise<boolean>;
  hooks: RelayHooks;
  /** Every event of this aggregate in the batch is in the stream. */
  aggregatePublished?: (aggregateKey: string) => void;
}

const encoder = new TextEncoder();

/** Publishes a batch (rows in seq order) and reports each row's outcome, in the rows' order. */
export function publishBatch(rows: readonly OutboxRow[], context: BatchPublishContext): Promise<PublishOutcome[]> {
  const streamAnswers = new Map<string, Promise<boolean>>();
  const batchContext: BatchPublishContext = {
    ...context,
    // one lookup per subject and batch, however many of its events got no responders
    streamTakesSubject: (subject) => {
      let answer = streamAnswers.get(subject);
      if (!answer) streamAnswers.set(subject, (answer = context.streamTakesSubject(subject)));
      return answer;
    },
  };
  const previousOfAggregate = new Map<string, Promise<boolean>>();
  const outcomes = rows.map((row) => {
    const key = aggregateKey(row);
    const previous = previousOfAggregate.get(key);
    const outcome = previous
      ? previous.then((published) => (published ? publishRow(row, batchContext) : { status: 'held_back' as const, row }))
      : publishRow(row, batchContext);
    previousOfAggregate.set(
      key,
      outcome.then((o) => o.status === 'published'),
    );
    return outcome;
  });
  // an aggregate's last event is published only if all its earlier ones were
  for (const [key, last] of previousOfAggregate) {
    void last.then((published) => published && context.aggregatePublished?.(key));
  }
  return Promise.all(outcomes);
}

async function publishRow(row: OutboxRow, context: BatchPublishContext): Promise<PublishOutcome> {
  const check = checkEventJson(row.eventType, row.payload);
  if (!check.ok) return failed(row, check.reason, check.detail, context);
  const subject = subjectFor(context.subjectPrefix, row.eventType as EventType);
  const headers = natsHeaders();
  headers.set(EVENT_HEADERS.id, row.id);
  headers.set(EVENT_HEADERS.type, row.eventType);
  headers.set(EVENT_HEADERS.version, String(row.eventVersion));
  if (row.correlationId) headers.set(EVENT_HEADERS.correlationId, row.correlationId);
  headers.set(EVENT_HEADERS.aggregateType, row.aggregateType);
  headers.set(EVENT_HEADERS.aggregateId, row.aggregateId);
  headers.set(EVENT_HEADERS.occurredAt, row.createdAt);
  const started = performance.now();
  try {
    const ack = await context.publisher.publish(subject, encoder.encode(row.payload), headers);
    context.hooks.eventPublished?.({
      id: row.id,
      eventType: row.eventType,
      publishSeconds: (performance.now() - started) / 1000,
      duplicate: ack.duplicate,
    });
    return { status: 'published', row, ack };
  } catch (error) {
    if (!(error instanceof PublishFailure)) throw error;
    switch (error.kind) {
      case 'payload_too_large':
        return failed(row, 'payload_too_large', error.message, context);
      case 'no_responders':
        return (await context.streamTakesSubject(subject))
          ? failed(row, 'nats_unavailable', `JetStream did not answer for ${subject} (${error.message})`, context)
          : failed(row, 'no_stream', `no stream takes subject ${subject}`, context);
      case 'rejected':
        return failed(row, 'stream_error', error.message, context);
      default:
        return failed(row, 'nats_unavailable', error.message, context);
    }
  }
}

function failed(row: OutboxRow, reason: FailureReason, detail: string, context: BatchPublishContext): PublishOutcome {
  const poison = POISON.has(reason);
  context.hooks.publishFailed?.({ id: row.id, eventType: row.eventType, reason, poison });
  return { status: 'failed', row, reason, detail, poison };
}
