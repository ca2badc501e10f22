// Reads every message of a stream in stream order (an ordered consumer), for asserting on what the relay
// published: event ids, per-aggregate order, stored timestamps.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { EVENT_HEADERS } from '../../../functions/_shared/events/headers.ts';

export interface StoredEvent {
  streamSeq: number;
  subject: string;
  id: string;
  type: string;
  aggregate: string;
  correlationId: string | undefined;
  payload: unknown;
  /** When the stream stored it, in ms since the epoch (fractional). */
  storedAtMs: number;
}

export async function readStream(nc: NatsConnection, stream: string, options: { timeoutMs?: number } = {}): Promise<StoredEvent[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  const events: StoredEvent[] = [];
  if (state.messages === 0) return events;
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 1000 });
  const timer = setTimeout(() => void messages.close(), options.timeoutMs ?? 20_000);
  try {
    for await (const m of messages) {
      const h = m.headers;
      events.push({
        streamSeq: m.seq,
        subject: m.subject,
        id: h?.get(EVENT_HEADERS.id) ?? '',
        type: h?.get(EVENT_HEADERS.type) ?? '',
        aggregate: `${h?.get(EVENT_HEADERS.aggregateType) ?? ''}:${h?.get(EVENT_HEADERS.aggregateId) ?? ''}`,
        correlationId: h?.get(EVENT_HEADERS.correlationId) || undefined,
        payload: m.json(),
        storedAtMs: Number(BigInt(m.info.timestampNanos) / 1000n) / 1000,
      });
      if (m.seq >= state.last_seq) break;
    }
  } finally {
    clearTimeout(timer);
    await messages.close();
  }
  if (events.length === 0 || events.at(-1)!.streamSeq < state.last_seq) {
    throw new Error(`read ${events.length} of the ${state.messages} messages in ${stream} before the timeout`);
  }
  return events;
}
