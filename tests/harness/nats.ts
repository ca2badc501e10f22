// A nats-server of the test's own: the local stack's private NATS (JetStream and monitoring, see
// scripts/local-stack/services/nats.ts) on free ports with its store in a temporary folder. The shared server
// on :4222 must never be stopped and has no monitoring port, so tests that take NATS down, crash it or read
// its monitoring endpoints use one of these.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireBinary } from '../../scripts/local-stack/binaries.ts';
import { PrivateNats } from '../../scripts/local-stack/services/nats.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';

export interface TestNats {
  url: string;
  port: number;
  monitoringUrl: string;
  /** Stops the server (SIGTERM: JetStream flushes its store) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and store; resolves once JetStream is ready. */
  start(): Promise<void>;
  /** SIGKILL: the server vanishes without closing its clients' connections. */
  kill(): Promise<void>;
  /** Stops it for good and deletes its folder (store, config and log). */
  destroy(): Promise<void>;
}

/** Starts a private nats-server and resolves once JetStream is ready. Call destroy() when done. */
export async function startPrivateNats(): Promise<TestNats> {
  const binary = requireBinary('nats-server');
  const root = mkdtempSync(path.join(tmpdir(), 'mdao-nats-'));
  let server: PrivateNats | undefined;
  try {
    for (let attempt = 1; ; attempt += 1) {
      const ports = { client: await ephemeralPort(), monitoring: await ephemeralPort() };
      const candidate = new PrivateNats(root, binary, ports, path.join(root, 'nats.log'));
      try {
        await candidate.start();
        server = candidate;
        break;
      } catch (error) {
        await candidate.stop();
        // another process took one of the free ports between probing and binding: try others
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const nats = server;
  const { client, monitoring } = nats.ports;
  return {
    url: `nats://127.0.0.1:${client}`,
    port: client,
    monitoringUrl: `http://127.0.0.1:${monitoring}`,
    stop: () => nats.stop(),
    start: async () => void (await nats.start()),
    kill: () => nats.kill(),
    async destroy() {
      await nats.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
