// Sentry in the gateway, on its own runtime: a request that fails unexpectedly under Deno reaches a local
// Sentry endpoint through @sentry/deno, tagged with its request id and route, without the secret in the
// error's message or the caller's token.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../../scripts/local-stack/processes.ts';
import { generateAccessKey } from '../../functions/_shared/access-keys.ts';
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

  /** Runs the fixture: a request sent with `bearer` fails with a 500 whose error quotes the secret and the bearer. */
  async function failWith(bearer: string, secret: string, requestId: string) {
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
    return run;
  }

  it('reports an unexpected 500 with its request id and route, and nothing secret', async () => {
    const unique = randomUUID();
    const secret = `gateway-sentry-signing-key-${unique}`;
    const bearer = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(unique).toString('base64url')}.c2lnbmF0dXJlLXBhcnQ`;
    const requestId = `sentry-${unique}`;
    await failWith(bearer, secret, requestId);

    const [event] = await endpoint.waitForEvents(1);
    expect(event!.sdk).toMatchObject({ name: 'sentry.javascript.deno' });
    expect(event!.tags).toMatchObject({ service: 'api', request_id: requestId, method: 'GET', route: '/api/ready' });
    const exception = (event!.exception as { values: { value: string }[] }).values[0]!;
    expect(exception.value).toContain('readiness probe crashed');
    const sent = endpoint.envelopes.map((e) => e.raw).join('\n');
    expect(sent).not.toContain(secret);
    expect(sent).not.toContain(bearer);
  }, 120_000);

  it('never sends an access key, in a header or quoted by an error', async () => {
    const unique = randomUUID();
    const { key } = await generateAccessKey('test');
    const requestId = `sentry-key-${unique}`;
    const logged = await failWith(key, `gateway-sentry-signing-key-${unique}`, requestId);
    const envelopes = await endpoint.waitForEvents(2);
    expect(envelopes.some((event) => (event.tags as { request_id?: string } | undefined)?.request_id === requestId)).toBe(true);
    const sent = endpoint.envelopes.map((e) => e.raw).join('\n');
    expect(sent).not.toContain(key.slice(10, 42)); // not even the key's random part
    expect(logged.output).not.toContain(key.slice(10, 42));
  }, 120_000);
});
