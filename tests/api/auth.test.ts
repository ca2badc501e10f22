// Authentication at the gateway: Supabase Auth tokens verified with jose (HS256 secret and JWKS), one 401
// code per way a token can be wrong, and the dev login that exists only in local/test.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../functions/api/app.ts';
import { createGatewayDeps } from '../../functions/api/gateway.ts';
import { AuthError, createTokenVerifier } from '../../functions/_shared/auth.ts';
import { ConfigError, loadConfig, type Config } from '../../functions/_shared/config.ts';
import { call, devLogin, expectErrorShape, startTestGateway, TEST_JWT_SECRET, type TestGateway } from './helpers.ts';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway('api_auth', { seed: false });
});
afterAll(async () => {
  await gateway?.close();
});

const userId = '0b5b6c1e-2f3a-4d5e-8f70-1a2b3c4d5e6f';
const now = () => Math.floor(Date.now() / 1000);
const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  sub: userId,
  role: 'authenticated',
  aud: 'authenticated',
  iat: now(),
  exp: now() + 600,
  ...overrides,
});
const signHs256 = (payload: JWTPayload, secret = TEST_JWT_SECRET) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));

async function codeFor(authorization: string | undefined): Promise<[number, string]> {
  const answer = await call(gateway.app, 'GET', '/api/teams', { headers: authorization === undefined ? {} : { authorization } });
  return [answer.status, expectErrorShape(answer).code];
}

describe('access tokens', () => {
  it('remembers a verified token for a while but still refuses it once it expires', async () => {
    const verifier = createTokenVerifier({
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_AUDIENCE: 'authenticated',
      JWT_ISSUER: undefined,
      AUTH_JWKS_URL: undefined,
      SUPABASE_URL: undefined,
    });
    const token = await signHs256(claims({ exp: now() + 5 }));
    expect((await verifier.verify(token)).sub).toBe(userId);
    vi.useFakeTimers({ now: Date.now() + 40_000, toFake: ['Date'] }); // past exp and the 30 s clock tolerance, inside the cache's minute
    try {
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'auth_expired' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('accepts a valid Supabase-shaped token', async () => {
    const { token } = await devLogin(gateway.app, 'valid@auth.test');
    expect((await call(gateway.app, 'GET', '/api/teams', { token })).status).toBe(200);
  });

  it('gives each kind of bad token its own 401 code', async () => {
    const unsigned = `${btoa(JSON.stringify({ alg: 'none', typ: 'JWT' })).replace(/=+$/, '')}.${btoa(JSON.stringify(claims())).replace(/=+$/, '')}.`;
    const valid = await signHs256(claims());
    const [header, , signature] = valid.split('.');
    const tampered = `${header}.${btoa(JSON.stringify(claims({ sub: '11111111-2222-4333-8444-555555555555' }))).replace(/=+$/, '')}.${signature}`;
    const cases: [string, string | undefined, string][] = [
      ['no header', undefined, 'auth_missing'],
      ['an empty header', '', 'auth_missing'],
      ['another scheme', `Basic ${btoa('alice:secret')}`, 'auth_malformed'],
      ['a bearer that is no JWT', 'Bearer not-a-jwt', 'auth_malformed'],
      ['a bearer with garbage segments', 'Bearer eyJ.eyJ.sig', 'auth_malformed'],
      ['an expired token', `Bearer ${await signHs256(claims({ iat: now() - 7200, exp: now() - 3600 }))}`, 'auth_expired'],
      [
        'a token signed with another secret',
        `Bearer ${await signHs256(claims(), 'another-projects-secret-0123456789abcdef')}`,
        'auth_bad_signature',
      ],
      ['a tampered payload', `Bearer ${tampered}`, 'auth_bad_signature'],
      ['an unsigned (alg none) token', `Bearer ${unsigned}`, 'auth_bad_signature'],
      ['a token for another audience', `Bearer ${await signHs256(claims({ aud: 'service' }))}`, 'auth_wrong_audience'],
      ['a token not valid yet', `Bearer ${await signHs256(claims({ nbf: now() + 3600 }))}`, 'auth_not_yet_valid'],
      ['the anon key', `Bearer ${await signHs256({ role: 'anon', iss: 'supabase', iat: now(), exp: now() + 600 })}`, 'auth_not_a_user'],
      ['an anon-role session', `Bearer ${await signHs256(claims({ role: 'anon' }))}`, 'auth_not_a_user'],
      ['a subject that is no user id', `Bearer ${await signHs256(claims({ sub: 'service-account' }))}`, 'auth_not_a_user'],
    ];
    for (const [label, authorization, code] of cases) {
      expect([label, ...(await codeFor(authorization))]).toEqual([label, 401, code]);
    }
  });

  it('tells the client how to authenticate in WWW-Authenticate', async () => {
    const answer = await call(gateway.app, 'GET', '/api/teams', { headers: { authorization: 'Bearer nope' } });
    expect(answer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="auth_malformed"');
  });

  it('checks the issuer when JWT_ISSUER is set', async () => {
    const verifier = createTokenVerifier({
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_AUDIENCE: 'authenticated',
      JWT_ISSUER: 'https://abcdefghijklmnopqrst.supabase.co/auth/v1',
      AUTH_JWKS_URL: undefined,
      SUPABASE_URL: undefined,
    });
    await expect(verifier.verify(await signHs256(claims({ iss: 'https://evil.example/auth/v1' })))).rejects.toMatchObject({
      code: 'auth_wrong_issuer',
    });
    const good = await verifier.verify(await signHs256(claims({ iss: 'https://abcdefghijklmnopqrst.supabase.co/auth/v1' })));
    expect(good.sub).toBe(userId);
  });
});

describe('asymmetric signing keys (JWKS)', () => {
  let server: Server;
  let jwksUrl: string;
  let signEs256: (payload: JWTPayload, key?: CryptoKey, kid?: string) => Promise<string>;
  let strangerKey: CryptoKey;

  beforeAll(async () => {
    const projectKeys = await generateKeyPair('ES256', { extractable: true });
    strangerKey = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(projectKeys.publicKey)), kid: 'project-key-1', alg: 'ES256', use: 'sig' };
    server = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/v1/.well-known/jwks.json`;
    signEs256 = (payload, key = projectKeys.privateKey, kid = 'project-key-1') =>
      new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid }).sign(key);
  });
  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  const settings = (url: string) => ({
    JWT_SECRET: TEST_JWT_SECRET,
    AUTH_JWKS_URL: url,
    SUPABASE_URL: undefined,
    JWT_AUDIENCE: 'authenticated',
    JWT_ISSUER: undefined,
  });

  it('finds the key set of the Supabase project at SUPABASE_URL when AUTH_JWKS_URL is not set', async () => {
    const projectUrl = jwksUrl.replace('/auth/v1/.well-known/jwks.json', '');
    const verifier = createTokenVerifier({ ...settings(''), AUTH_JWKS_URL: undefined, SUPABASE_URL: projectUrl });
    expect((await verifier.verify(await signEs256(claims()))).sub).toBe(userId);
  });

  it('accepts ES256 tokens from the project’s key set and, during a rotation, legacy HS256 ones', async () => {
    const verifier = createTokenVerifier(settings(jwksUrl));
    expect((await verifier.verify(await signEs256(claims()))).sub).toBe(userId);
    expect((await verifier.verify(await signHs256(claims()))).sub).toBe(userId);
  });

  it('refuses a token signed by a key outside the set, and says so when the set cannot be fetched', async () => {
    const verifier = createTokenVerifier(settings(jwksUrl));
    await expect(verifier.verify(await signEs256(claims(), strangerKey))).rejects.toMatchObject({ code: 'auth_bad_signature' });
    await expect(verifier.verify(await signEs256(claims(), strangerKey, 'unknown-kid'))).rejects.toMatchObject({
      code: 'auth_bad_signature',
    });

    const unreachable = createTokenVerifier(settings('http://127.0.0.1:9/auth/v1/.well-known/jwks.json'));
    const failure = await unreachable.verify(await signEs256(claims())).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthError);
    expect(failure).toMatchObject({ code: 'auth_keys_unavailable', status: 503 });
  });
});

describe('dev login', () => {
  it('creates a new account once and mints the claims Supabase Auth would', async () => {
    const first = await call<{ access_token: string; token_type: string; expires_in: number; user: { id: string; email: string } }>(
      gateway.app,
      'POST',
      '/api/auth/dev-login',
      { body: { email: 'New.Person@Auth.Test', display_name: 'New Person' } },
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'bearer', expires_in: 3600, user: { email: 'new.person@auth.test' } });
    const again = await devLogin(gateway.app, 'new.person@auth.test');
    expect(again.userId).toBe(first.body.user.id);

    const decoded = decodeJwt(first.body.access_token);
    expect(decoded).toMatchObject({
      sub: first.body.user.id,
      email: 'new.person@auth.test',
      role: 'authenticated',
      aud: 'authenticated',
      aal: 'aal1',
      is_anonymous: false,
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: { display_name: 'New Person' },
      session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      amr: [{ method: 'password', timestamp: expect.any(Number) }],
    });
    expect(decoded.exp! - decoded.iat!).toBe(3600);
    const [profile] = await gateway.database.sql`select display_name from public.profiles where id = ${first.body.user.id}`;
    expect(profile).toEqual({ display_name: 'New Person' });
  });

  it('answers a bad email with a 400 in the error shape', async () => {
    const answer = await call(gateway.app, 'POST', '/api/auth/dev-login', { body: { email: 'not-an-email' } });
    expect(answer.status).toBe(400);
    expect(expectErrorShape(answer)).toMatchObject({
      code: 'invalid_body',
      message: expect.stringContaining('email must be an email address'),
    });
  });

  const productionLike = (env: 'staging' | 'prod', devLoginEnabled: boolean): Config => ({
    ...gateway.config,
    APP_ENV: env,
    DEV_LOGIN_ENABLED: devLoginEnabled,
  });

  it('does not exist in staging or prod', async () => {
    for (const env of ['staging', 'prod'] as const) {
      const app = createApp(createGatewayDeps({ config: productionLike(env, false), sql: gateway.sql, logger: { ...silentLogger } }));
      const answer = await call(app, 'POST', '/api/auth/dev-login', { body: { email: 'alice@demo.local' } });
      expect([env, answer.status, expectErrorShape(answer).code]).toEqual([env, 404, 'route_not_found']);
      const document = await call<{ paths: Record<string, unknown> }>(app, 'GET', '/api/openapi.json');
      expect(Object.keys(document.body.paths)).not.toContain('/api/auth/dev-login');
    }
  });

  it('keeps the gateway from starting when enabled outside local and test', () => {
    const environment = { APP_ENV: 'staging', DEV_LOGIN_ENABLED: 'true', JWT_SECRET: 'x'.repeat(40), SESSION_SECRET: 'y'.repeat(40) };
    expect(() => loadConfig(environment)).toThrow(ConfigError);
    expect(() => loadConfig(environment)).toThrow(/DEV_LOGIN_ENABLED/);
    for (const env of ['staging', 'prod'] as const) {
      expect(() => createApp(createGatewayDeps({ config: productionLike(env, true), sql: gateway.sql }))).toThrow(/DEV_LOGIN_ENABLED/);
    }
  });
});

const silentLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child() {
    return silentLogger;
  },
};
