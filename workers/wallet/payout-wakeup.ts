// The NATS wake-up of the wallet worker: a durable JetStream consumer (NATS_CONSUMER_WALLET) on payout.approved
// that ends the worker's wait at once, so an approved payout goes out without waiting for the next poll. The
// payout row stays the queue (the executor claims it under its row lock); the event only says "look now", so a
// lost or duplicate event costs nothing and polling every WALLET_POLL_INTERVAL_MS remains the fallback. NATS
// being away never stops payouts: the consumer is started in the background and retried.
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from '../../functions/_shared/log.ts';
import { DurableConsumer } from '../consumers/durable-consumer.ts';
import { connectNats } from '../lib/nats.ts';
import type { Sql } from '../lib/postgres.ts';

/** Sleeps until `ms` pass or wake() is called, whichever is first. A wake with nobody sleeping is kept for the next sleep. */
export class Alarm {
  private ring: (() => void) | undefined;
  private pending = false;

  wake(): void {
    if (this.ring) this.ring();
    else this.pending = true;
  }

  sleep(ms: number): Promise<'woken' | 'timeout'> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve('woken');
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ring = undefined;
        resolve('timeout');
      }, ms);
      this.ring = () => {
        clearTimeout(timer);
        this.ring = undefined;
        resolve('woken');
      };
    });
  }
}

export interface WakeupSettings {
  NATS_URL: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_STREAM_EVENTS: string;
  NATS_SUBJECT_PREFIX: string;
  NATS_CONSUMER_WALLET: string;
  CONSUMER_MAX_DELIVER: number;
  CONSUMER_ACK_WAIT_SECONDS: number;
}

/** Starts the payout.approved consumer in the background; returns how to stop it. */
export function startPayoutWakeup(settings: WakeupSettings, sql: Sql, alarm: Alarm, logger: Logger): { stop(): Promise<void> } {
  let nc: NatsConnection | undefined;
  let consumer: DurableConsumer | undefined;
  let stopping = false;
  const started = (async () => {
    nc = await connectNats(settings, { name: `microdao-wallet-${settings.NATS_CONSUMER_WALLET}` });
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    consumer = new DurableConsumer({
      nc,
      jsm,
      sql,
      stream: settings.NATS_STREAM_EVENTS,
      subjectPrefix: settings.NATS_SUBJECT_PREFIX,
      name: settings.NATS_CONSUMER_WALLET,
      eventTypes: ['payout.approved'],
      // nothing to write: the event only wakes the loop, which reads the payout row itself
      handle: async () => alarm.wake(),
      maxDeliver: settings.CONSUMER_MAX_DELIVER,
      ackWaitMs: settings.CONSUMER_ACK_WAIT_SECONDS * 1000,
      logger,
    });
    // the stream is the relay's to create: wait for it rather than race it
    for (let attempt = 0; !stopping; attempt += 1) {
      try {
        await consumer.start();
        logger.info('woken by payout.approved on NATS', { consumer: settings.NATS_CONSUMER_WALLET });
        return;
      } catch (error) {
        if (attempt % 10 === 0) logger.warn('NATS wake-up not started yet; polling meanwhile', { error: (error as Error).message });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })().catch((error: Error) => logger.warn('NATS wake-up off; polling only', { error: error.message }));
  return {
    async stop() {
      stopping = true;
      // a NATS server that never answered must not hold the worker's exit
      await Promise.race([started, new Promise((r) => setTimeout(r, 2000))]);
      await consumer?.stop();
      await nc?.drain().catch(() => undefined);
    },
  };
}
