// The relay image's HEALTHCHECK, run as Docker would run it (its exec form, with the image's METRICS_PORT)
// against the metrics server every worker serves: healthy while it answers, unhealthy once it is gone.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../functions/_shared/metrics.ts';
import { serveMetrics } from '../lib/metrics-server.ts';

const dockerfile = readFileSync(path.join(import.meta.dirname, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
const healthcheck = dockerfile.split('\n').find((line) => line.startsWith('HEALTHCHECK '));

function runHealthcheck(port: number): Promise<number> {
  const command = JSON.parse(healthcheck!.slice(healthcheck!.indexOf('CMD ') + 4)) as string[];
  return new Promise((resolve) => {
    execFile(command[0]!, command.slice(1), { timeout: 10_000, env: { PATH: process.env.PATH, METRICS_PORT: String(port) } }, (error) =>
      resolve(error ? (typeof error.code === 'number' ? error.code : -1) : 0),
    );
  });
}

describe('workers/outbox-relay/Dockerfile HEALTHCHECK', () => {
  it('exposes the metrics port and probes /healthz without curl, healthy only while the relay serves it', async () => {
    expect(healthcheck, 'the Dockerfile has no HEALTHCHECK').toBeDefined();
    expect(healthcheck).toMatch(/CMD \["node", "-e",/);
    expect(dockerfile).toMatch(/^EXPOSE 9464$/m);

    const server = await serveMetrics(new Registry(), { port: 0 });
    try {
      expect(await runHealthcheck(server.port)).toBe(0);
    } finally {
      await server.close();
    }
    expect(await runHealthcheck(server.port)).toBe(1);
  });
});
