// Asynchronous JetStream publishing with many messages in flight: each message goes out with a reply
// subject under one inbox subscription and its promise settles when the stream's ack (or error) comes
// back. Unlike `js.publish`, it needs no request object or timer per message (one sweeper expires late
// acks), which is what lets the relay keep thousands of publishes in the pipe. Same wire protocol as
// `js.publish`: an HPUB with a reply subject, answered by a PubAck JSON.
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

/**
 * Why a publish failed:
 * - `timeout`, `connection`: the server did not answer in time or the connection is gone — try again later;
 * - `no_responders`: nothing listens on the subject — no stream takes it, or JetStream is still starting;
 * - `payload_too_large`: headers + payload exceed the server's max_payload or the stream's max_msg_size;
 * - `rejected`: the stream answered with another error (e.g. storage full).
 */
export type PublishFailureKind = 'timeout' | 'connection' | 'no_responders' | 'payload_too_large' | 'rejected';

export class PublishFailure extends Error {
  constructor(
    readonly kind: PublishFailureKind,
    message: string,
    readonly apiErrorCode?: number,
  ) {
    super(message);
    this.name = 'PublishFailure';
  }
}

interface PendingPublish {
  resolve: (ack: PubAck) => void;
  reject: (failure: PublishFailure) => void;
  deadline: number;
}

// JetStream API error code of "message size exceeds maximum allowed" (stream max_msg_size).
const MESSAGE_SIZE_EXCEEDED = 10054;

export class JetStreamAsyncPublisher {
  private readonly inbox: string;
  private readonly subscription: Subscription;
  private readonly pending = new Map<string, PendingPublish>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private counter = 0;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.inbox = createInbox();
    this.subscription = nc.subscribe(`${this.inbox}.*`, { callback: (_error, msg) => this.settle(msg) });
    this.sweeper = setInterval(() => this.expireOverdue(), Math.max(10, Math.min(100, timeoutMs / 4)));
    this.sweeper.unref?.();
    void nc.closed().then(() => this.close('the NATS connection was closed'));
  }

  /** Publishes one message; resolves with the stream's ack, rejects with a PublishFailure. */
  publish(subject: string, payload: Uint8Array, headers: MsgHdrs): Promise<PubAck> {
    if (this.closed) return Promise.reject(new PublishFailure('connection', 'the publisher is closed'));
    const token = (this.counter++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      try {
        this.nc.publish(subject, payload, { headers, reply: `${this.inbox}.${token}` });
      } catch (error) {
        reject(failureOfPublishError(error));
        return;
      }
      this.pending.set(token, { resolve, reject, deadline: performance.now() + this.timeoutMs });
    });
  }

  /** Publishes waiting for an ack right now. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Fails every publish still waiting and stops listening for acks. */
  close(reason = 'the publisher was closed'): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    try {
      this.subscription.unsubscribe();
    } catch {
      // the connection is already closed
    }
    for (const entry of this.pending.values()) entry.reject(new PublishFailure('connection', reason));
    this.pending.clear();
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length + 1);
    const entry = this.pending.get(token);
    if (!entry) return; // already timed out: the message may be in the stream; the retry is deduplicated
    this.pending.delete(token);
    if (msg.headers?.code === 503) {
      entry.reject(new PublishFailure('no_responders', 'no responders: no stream takes the subject, or JetStream is unavailable'));
      return;
    }
    let reply: { stream?: string; seq?: number; duplicate?: boolean; error?: { err_code?: number; description?: string } };
    try {
      reply = msg.json();
    } catch {
      entry.reject(new PublishFailure('rejected', 'the stream answered with something that is not a PubAck'));
      return;
    }
    if (reply.error) {
      const code = reply.error.err_code;
      const kind = code === MESSAGE_SIZE_EXCEEDED ? 'payload_too_large' : 'rejected';
      entry.reject(new PublishFailure(kind, `the stream refused the message: ${reply.error.description ?? 'unknown error'}`, code));
      return;
    }
    if (!reply.stream || typeof reply.seq !== 'number') {
      entry.reject(new PublishFailure('rejected', 'the stream answered with an incomplete PubAck'));
      return;
    }
    entry.resolve({ stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true });
  }

  private expireOverdue(): void {
    const now = performance.now();
    // every publish has the same timeout, so deadlines grow in insertion (= Map iteration) order
    for (const [token, entry] of this.pending) {
      if (entry.deadline > now) break;
      this.pending.delete(token);
      entry.reject(new PublishFailure('timeout', `no ack from JetStream within ${this.timeoutMs} ms`));
    }
  }
}

function failureOfPublishError(error: unknown): PublishFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (/max_payload/i.test(message))
    return new PublishFailure('payload_too_large', `the message exceeds the server's max_payload: ${message}`);
  return new PublishFailure('connection', `could not publish: ${message}`);
}
