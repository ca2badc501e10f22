// The launcher's rule for the machine's own NATS: it counts only with JetStream and its own monitoring port
// (the nats-exporter's source). A monitoring port that belongs to another server does not count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsMonitoringMatches, probeNats } from '../../scripts/local-stack/services/probes.ts';
import { startPrivateNats, type TestNats } from '../harness/nats.ts';

let nats: TestNats;
beforeAll(async () => {
  nats = await startPrivateNats();
}, 60_000);
afterAll(() => nats?.destroy());

describe('the NATS monitoring probe', () => {
  it("recognises a server's own monitoring port by its server id", async () => {
    const probe = await probeNats(nats.url);
    expect(probe).toMatchObject({ ok: true, jetstream: true, serverId: expect.stringMatching(/^N[A-Z0-9]{55}$/) });
    expect(await natsMonitoringMatches(nats.monitoringUrl, probe.serverId)).toBe(true);
  });

  it("refuses another server's monitoring port, and a port where no monitoring answers", async () => {
    const machine = await probeNats('nats://127.0.0.1:4222');
    expect(machine.ok).toBe(true);
    expect(await natsMonitoringMatches(nats.monitoringUrl, machine.serverId)).toBe(false);
    const own = await probeNats(nats.url);
    expect(await natsMonitoringMatches(nats.url.replace('nats://', 'http://'), own.serverId)).toBe(false);
  });

  it('opens no WebSocket listener on the private server', async () => {
    const varz = (await (await fetch(`${nats.monitoringUrl}/varz`)).json()) as { websocket?: { port?: number } };
    expect(varz.websocket?.port ?? 0).toBe(0);
  });
});
