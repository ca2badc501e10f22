// The cloud sign-in path of the web apps: with VITE_SUPABASE_URL set, the session store asks Supabase Auth
// (through supabase-js) to email a one-time code, verifies the code, and hands the gateway the session's
// access token — which the gateway's own verifier accepts. Supabase Auth is played by a fake fetch that
// answers its two endpoints the way GoTrue does.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenVerifier, mintAccessToken } from '../../functions/_shared/auth.ts';
import { createSessionStore } from '../../web/shared/session.ts';

const SUPABASE_URL = 'https://abcdefghijklmnopqrst.supabase.co';
const ANON_KEY = 'public-anon-key-for-the-test';
const JWT_SECRET = 'test-only-jwt-secret-0123456789abcdefghijklmnop';
const settings = {
  JWT_SECRET,
  JWT_AUDIENCE: 'authenticated',
  JWT_ISSUER: `${SUPABASE_URL}/auth/v1`,
  AUTH_JWKS_URL: undefined,
  SUPABASE_URL: undefined,
};

// supabase-js builds a realtime client up front; Node 20 has no WebSocket and the sign-in never uses one
class UnusedWebSocket {}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

describe('sign-in with Supabase Auth (cloud builds)', () => {
  it('emails a code, verifies it, and yields an access token the gateway accepts', async () => {
    const user = { id: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f', email: 'alice@city.example' };
    const minted = await mintAccessToken(settings, { ...user, appMetadata: { platform_admin: true } });
    const requests: { path: string; body: Record<string, unknown>; apikey: string | null }[] = [];
    vi.stubEnv('VITE_SUPABASE_URL', SUPABASE_URL);
    vi.stubEnv('VITE_SUPABASE_ANON_KEY', ANON_KEY);
    vi.stubGlobal('WebSocket', UnusedWebSocket);
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      requests.push({
        path: url.pathname,
        body: init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : {},
        apikey: headers.get('apikey'),
      });
      if (url.pathname === '/auth/v1/otp') return Response.json({});
      if (url.pathname === '/auth/v1/verify') {
        return Response.json({
          access_token: minted.access_token,
          token_type: 'bearer',
          expires_in: minted.expires_in,
          expires_at: minted.expires_at,
          refresh_token: 'refresh-token',
          user: { ...user, aud: 'authenticated', role: 'authenticated', app_metadata: { platform_admin: true }, user_metadata: {} },
        });
      }
      return Response.json({ message: `unexpected ${url.pathname}` }, { status: 404 });
    });

    const store = await createSessionStore('city');
    expect(store.method).toBe('email-code');
    expect(store.current()).toBeNull();

    await store.sendCode(user.email);
    const session = await store.verifyCode(user.email, '123456');
    expect(requests.map((r) => r.path)).toEqual(['/auth/v1/otp', '/auth/v1/verify']);
    expect(requests[0]).toMatchObject({ body: { email: user.email }, apikey: ANON_KEY });
    expect(requests[1]).toMatchObject({ body: { email: user.email, token: '123456', type: 'email' } });
    expect(session).toMatchObject({ userId: user.id, email: user.email, isPlatformAdmin: true });

    const token = await store.accessToken();
    expect(token).toBe(minted.access_token);
    const claims = await createTokenVerifier(settings).verify(token!);
    expect(claims.sub).toBe(user.id);
  });

  it('says what went wrong when the code is refused', async () => {
    vi.stubEnv('VITE_SUPABASE_URL', SUPABASE_URL);
    vi.stubEnv('VITE_SUPABASE_ANON_KEY', ANON_KEY);
    vi.stubGlobal('WebSocket', UnusedWebSocket);
    vi.stubGlobal('fetch', async () =>
      Response.json({ code: 403, error_code: 'otp_expired', msg: 'Token has expired or is invalid' }, { status: 403 }),
    );
    const store = await createSessionStore('admin');
    await expect(store.verifyCode('alice@city.example', '000000')).rejects.toThrow(
      /That code did not work: Token has expired or is invalid/,
    );
  });
});
