import { randomUUID } from 'node:crypto';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/_shared/config.ts';
import type { ErrorReporter } from '../../functions/_shared/sentry.ts';
import { startSentryEndpoint, type SentryEndpoint } from '../../tests/monitoring/sentry-endpoint.ts';
import { createWorkerErrorReporter } from './sentry.ts';

// Built at run time: Sentry sends the source lines around each stack frame, and these must be found only
// if the runtime values leaked, not because the test's own source mentions them.
const unique = randomUUID();
const JWT_SECRET = `worker-sentry-signing-key-${unique}`;
const BEARER = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(unique).toString('base64url')}.c2lnbmF0dXJlLXBhcnQ`;
const MESSAGE_BODY = `Meet me at the north gate at nine, ticket ${unique}`;
const EMAIL = `alice+${unique}@example.org`;

describe('Sentry in the workers', () => {
  let endpoint: SentryEndpoint;
  let reporter: ErrorReporter;

  beforeAll(async () => {
    endpoint = await startSentryEndpoint();
    // loading the config is what teaches the redaction the secret values
    const config = loadConfig({ APP_ENV: 'test', JWT_SECRET, SENTRY_DSN: endpoint.dsn });
    reporter = await createWorkerErrorReporter(config, 'consumer-wallet');
  });
  afterAll(async () => {
    await Sentry.close(2000);
    await endpoint?.close();
  });

  it('is off without SENTRY_DSN', async () => {
    const off = await createWorkerErrorReporter(loadConfig({ APP_ENV: 'test' }), 'consumer-wallet');
    expect(off.enabled).toBe(false);
  });

  it('sends a failure with its correlation id and service to the DSN, without secrets or message bodies', async () => {
    expect(reporter.enabled).toBe(true);
    const failure = new Error(`could not settle the transfer (signed with ${JWT_SECRET}, Authorization: Bearer ${BEARER})`);
    // what a careless caller might attach: the message body and the NATS payload
    Sentry.withScope((scope) => {
      scope.setExtra('body', MESSAGE_BODY);
      scope.setContext('nats', { subject: 'microdao.message.created', payload: { body: MESSAGE_BODY } });
      scope.setUser({ id: 'user-1', email: EMAIL });
      reporter.report(failure, { correlation_id: 'req-4711', consumer: 'wallet', event_type: 'message.created' });
    });
    expect(await reporter.flush(5000)).toBe(true);

    const [event] = await endpoint.waitForEvents(1);
    expect(event!.environment).toBe('test');
    expect(event!.tags).toMatchObject({
      service: 'consumer-wallet',
      correlation_id: 'req-4711',
      consumer: 'wallet',
      event_type: 'message.created',
    });
    const exception = (event!.exception as { values: { type: string; value: string }[] }).values[0]!;
    expect(exception.type).toBe('Error');
    expect(exception.value).toContain('could not settle the transfer');
    expect((event!.contexts as Record<string, Record<string, unknown>>).nats).toEqual({ subject: 'microdao.message.created' });
    expect(event!.user).toEqual({ id: 'user-1' });

    const sent = endpoint.envelopes.map((e) => e.raw).join('\n');
    expect(sent).toContain('req-4711');
    expect(sent).not.toContain(JWT_SECRET);
    expect(sent).not.toContain(BEARER);
    expect(sent).not.toContain(MESSAGE_BODY);
    expect(sent).not.toContain(EMAIL);
  });
});
