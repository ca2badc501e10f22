// Log redaction, unit level: known secret values from the configuration, secret-named fields, and
// credential-shaped strings. The proof on real log output of a running gateway is in smoke-and-logs.test.ts.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/_shared/config.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { REDACTED, isSecretFieldName, redactSecrets, redactText } from '../../functions/_shared/redact.ts';

describe('redactText', () => {
  it('hides every secret value of a loaded configuration, also URL-encoded', () => {
    const password = `Db/P@ss w0rd-${Date.now()}`;
    loadConfig({ APP_ENV: 'test', DB_PASSWORD: password, SESSION_SECRET: `session-${Date.now()}-Qx7Lm2Vb9` });
    const text = redactText(`login failed for ${password}; url postgresql://app:${encodeURIComponent(password)}@db.internal/app`);
    expect(text).not.toContain(password);
    expect(text).not.toContain(encodeURIComponent(password));
    expect(text).toContain(REDACTED);
  });

  it.each([
    [
      'a JWT',
      'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
      'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    ],
    ['a bearer token', 'Authorization: Bearer sk-abc123def456ghi789', 'sk-abc123def456ghi789'],
    ['a password in a URL', 'redis://default:S3cretPassw0rd@redis.internal:6379', 'S3cretPassw0rd'],
    ['a token in a query string', 'GET /api/x?access_token=abcdef123456&page=2', 'abcdef123456'],
    ['password=... in text', 'retrying with password=hunter2hunter2 now', 'hunter2hunter2'],
    [
      'a PEM private key',
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
    ],
    ['a Supabase access token', 'SUPABASE_ACCESS_TOKEN is sbp_0123456789abcdef0123456789abcdef', 'sbp_0123456789abcdef0123456789abcdef'],
    ['an AWS key id', 'key AKIAIOSFODNN7EXAMPLE used', 'AKIAIOSFODNN7EXAMPLE'],
  ])('hides %s', (_what, input, secret) => {
    const output = redactText(input);
    expect(output).not.toContain(secret);
    expect(output).toContain(REDACTED);
  });

  it('leaves ordinary text alone', () => {
    const text = 'GET /api/channels?team_id=00000000-0000-4000-8000-0000000d3a00 200 in 12 ms';
    expect(redactText(text)).toBe(text);
  });
});

describe('redactSecrets', () => {
  it('blanks secret-named fields at any depth, in any naming style, and keeps the rest', () => {
    const record = {
      msg: 'request',
      headers: { Authorization: 'Bearer x', 'x-api-key': 'k-123', cookie: 'sb=1', accept: 'application/json' },
      body: { email: 'a@b.c', password: 'pw', nested: [{ accessToken: 'at', refresh_token: 'rt', privateKey: 'pk' }] },
      token_count: 3,
      has_password: true,
    };
    const safe = redactSecrets(record);
    expect(safe.headers).toEqual({ Authorization: REDACTED, 'x-api-key': REDACTED, cookie: REDACTED, accept: 'application/json' });
    expect(safe.body.password).toBe(REDACTED);
    expect(safe.body.nested[0]).toEqual({ accessToken: REDACTED, refresh_token: REDACTED, privateKey: REDACTED });
    expect(safe.body.email).toBe('a@b.c');
    expect(safe.token_count).toBe(3);
    expect(safe.has_password).toBe(true);
    expect(record.body.password).toBe('pw'); // the caller's object is untouched
  });

  it('redacts inside errors and survives cycles', () => {
    const error = new Error('connect to postgresql://app:TopSecret99@db/app failed');
    const cyclic: Record<string, unknown> = { error };
    cyclic.self = cyclic;
    const safe = redactSecrets(cyclic) as { error: { message: string; stack: string }; self: unknown };
    expect(safe.error.message).toBe(`connect to postgresql://app:${REDACTED}@db/app failed`);
    expect(safe.error.stack).not.toContain('TopSecret99');
    expect(safe.self).toBe('[Circular]');
  });

  it('names secret fields the way people write them', () => {
    for (const name of [
      'password',
      'DB_PASSWORD',
      'jwtSecret',
      'JWT_SECRET',
      'E2EE_PRIVATE_KEY',
      'apiKey',
      'x-api-key',
      'Set-Cookie',
      'authorization',
      'SENTRY_DSN',
    ]) {
      expect(isSecretFieldName(name), name).toBe(true);
    }
    for (const name of ['email', 'request_id', 'channel_id', 'message', 'status', 'path'])
      expect(isSecretFieldName(name), name).toBe(false);
  });

  it('is what the logger writes', () => {
    const lines: string[] = [];
    const logger = createLogger({ sink: (line) => lines.push(line) });
    logger.info('connecting', { url: 'nats://relay:N4tsPassw0rd@nats.internal:4222', password: 'plain', attempt: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('N4tsPassw0rd');
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'connecting', password: REDACTED, attempt: 2 });
  });
});
