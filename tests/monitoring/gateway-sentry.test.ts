// Sentry in the gateway, on its own runtime: a request that fails unexpectedly under Deno reaches a local
// Sentry endpoint through @sentry/deno, tagged with its request id and route, without the secret in the
// error's message or the caller's token.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../../scripts/local-stack/processes.ts';
import { testEnvironment } from '../api/helpers.ts';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';
import { startSentryEndpoint, type SentryEndpoint } from './sentry-endpoint.ts';
import { repoRoot } from './stack.ts';

describe('Sentry in the gateway (Deno)', () => {
  let endpoint: SentryEndpoint;
  let database: TestDatabase;

  beforeAll(async () => {
    [endpoint, database] = await Promise.all([startSentryEndpoint(), createTestDatabase('gwsentry')]);
  });
  afterAll(async () => {
    await endpoint?.close();
    await database?.drop();
  });

  it('reports an unexpected 500 with its request id and route, and nothing secret', async () => {
    const unique = randomUUID();
    const secret = `gateway-sentry-signing-key-${unique}`;
    const bearer = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(unique).toString('base64url')}.c2lnbmF0dXJlLXBhcnQ`;
    const requestId = `sentry-${unique}`;
    const run = await runCaptured(
      path.join(repoRoot, 'node_modules/.bin/deno'),
      ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', 'tests/monitoring/fixtures/gateway-error-to-sentry.ts'],
      {
        cwd: repoRoot,
        timeoutMs: 90_000,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}),
          ...testEnvironment(database, { JWT_SECRET: secret, SENTRY_DSN: endpoint.dsn, LOG_LEVEL: 'error' }),
          TEST_REQUEST_ID: requestId,
          TEST_BEARER: bearer,
        },
      },
    );
    expect(run.output).toContain('"status":500');
    expect(run.output).toContain('"flushed":true');

    const [event] = await endpoint.waitForEvents(1);
    expect(event!.sdk).toMatchObject({ name: 'sentry.javascript.deno' });
    expect(event!.tags).toMatchObject({ service: 'api', request_id: requestId, method: 'GET', route: '/api/ready' });
    const exception = (event!.exception as { values: { value: string }[] }).values[0]!;
    expect(exception.value).toContain('readiness probe crashed');
    const sent = endpoint.envelopes.map((e) => e.raw).join('\n');
    expect(sent).not.toContain(secret);
    expect(sent).not.toContain(bearer);
  }, 120_000);
});
