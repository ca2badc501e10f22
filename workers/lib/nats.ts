// NATS connection of a Node worker, from the platform config: reconnects forever (a NATS restart is an
// outage to ride out, not a reason to exit) and waits for the server on first connect.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../../functions/_shared/config.ts';
import { registerDependency } from './readiness.ts';

type NatsSettings = Pick<Config, 'NATS_URL' | 'NATS_USER' | 'NATS_PASSWORD'>;

export interface NatsConnectOptions {
  /** Shown by the server (connz) and in logs: e.g. `microdao-outbox-relay`. */
  name: string;
  /** Milliseconds between reconnect attempts (default 500). */
  reconnectTimeWait?: number;
  /** For command-line tools: give up after one attempt instead of waiting for the server. */
  failFast?: boolean;
}

export async function connectNats(settings: NatsSettings, options: NatsConnectOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: settings.NATS_URL.split(',').map((s) => s.trim()),
    user: settings.NATS_USER,
    pass: settings.NATS_PASSWORD,
    name: options.name,
    maxReconnectAttempts: options.failFast ? 0 : -1,
    reconnectTimeWait: options.reconnectTimeWait ?? 500,
    waitOnFirstConnect: !options.failFast,
    timeout: options.failFast ? 3000 : 20_000,
    pingInterval: 10_000,
  });
  // ready while a round trip to the server completes (a flush waits out a reconnect, so the probe times out)
  const unregister = registerDependency(`nats ${options.name}`, () => nc.flush());
  void nc.closed().then(unregister, unregister);
  return nc;
}
