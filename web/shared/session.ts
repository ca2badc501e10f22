// Who is signed in, and how: the dev login of the local/test gateway, or Supabase Auth's email one-time
// code in the cloud environments (chosen at build time by VITE_SUPABASE_URL). Either way the gateway gets the
// session's access token as `Authorization: Bearer …`, and the apps read who the user is from its claims.
import { apiBaseUrl } from './config.ts';
import { ApiUnreachableError, errorFromResponse } from './api-errors.ts';

export interface Session {
  accessToken: string;
  userId: string;
  email: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** The platform-admin flag of the token's app_metadata (set by the auth service, not by the user). */
  isPlatformAdmin: boolean;
}

interface AccessTokenClaims {
  sub?: string;
  email?: string;
  exp?: number;
  app_metadata?: { platform_admin?: unknown };
}

/** Reads (does not verify: the gateway does) the claims of an access token. */
export function sessionFromAccessToken(accessToken: string): Session {
  const part = accessToken.split('.')[1];
  if (!part) throw new Error('The sign-in service returned something that is not an access token.');
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  const claims = JSON.parse(json) as AccessTokenClaims;
  return {
    accessToken,
    userId: claims.sub ?? '',
    email: claims.email ?? '',
    expiresAt: claims.exp ?? 0,
    isPlatformAdmin: claims.app_metadata?.platform_admin === true,
  };
}

export interface SessionStore {
  /** 'dev-login' signs in with just an email (local/test); 'email-code' sends a one-time code by email. */
  readonly method: 'dev-login' | 'email-code';
  current(): Session | null;
  /** The access token to send now (refreshed first when the auth service supports it); null when signed out. */
  accessToken(): Promise<string | null>;
  signInWithDevLogin(email: string): Promise<Session>;
  sendCode(email: string): Promise<void>;
  verifyCode(email: string, code: string): Promise<Session>;
  signOut(): Promise<void>;
  subscribe(listener: (session: Session | null) => void): () => void;
}

const isLive = (session: Session | null): session is Session => session !== null && session.expiresAt * 1000 > Date.now();

/** Dev login: POST /api/auth/dev-login; the session lives in this tab's sessionStorage. */
function devLoginStore(storageKey: string): SessionStore {
  const listeners = new Set<(session: Session | null) => void>();
  const stored = sessionStorage.getItem(storageKey);
  let session: Session | null = stored ? safeParse(stored) : null;
  if (!isLive(session)) session = null;
  const set = (next: Session | null) => {
    session = next;
    if (next) sessionStorage.setItem(storageKey, JSON.stringify(next));
    else sessionStorage.removeItem(storageKey);
    for (const listener of listeners) listener(next);
  };
  const unsupported = () => Promise.reject(new Error('This build signs in with the dev login; email codes need VITE_SUPABASE_URL.'));
  return {
    method: 'dev-login',
    current: () => (isLive(session) ? session : null),
    async accessToken() {
      if (session && !isLive(session)) set(null);
      return session?.accessToken ?? null;
    },
    async signInWithDevLogin(email) {
      const url = `${apiBaseUrl}/api/auth/dev-login`;
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
      } catch {
        throw new ApiUnreachableError(apiBaseUrl);
      }
      if (!response.ok) throw await errorFromResponse(response);
      const body = (await response.json()) as { access_token: string };
      const next = sessionFromAccessToken(body.access_token);
      set(next);
      return next;
    },
    sendCode: unsupported,
    verifyCode: unsupported,
    async signOut() {
      set(null);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function safeParse(text: string): Session | null {
  try {
    return JSON.parse(text) as Session;
  } catch {
    return null;
  }
}

/** Supabase Auth: an email one-time code (signInWithOtp + verifyOtp); supabase-js keeps and refreshes the session. */
async function supabaseStore(url: string, anonKey: string, storageKey: string): Promise<SessionStore> {
  const { createClient } = await import('@supabase/supabase-js');
  const supabase = createClient(url, anonKey, { auth: { storageKey, persistSession: true, autoRefreshToken: true } });
  const listeners = new Set<(session: Session | null) => void>();
  const { data } = await supabase.auth.getSession();
  let session: Session | null = data.session ? sessionFromAccessToken(data.session.access_token) : null;
  supabase.auth.onAuthStateChange((_event, next) => {
    session = next ? sessionFromAccessToken(next.access_token) : null;
    for (const listener of listeners) listener(session);
  });
  return {
    method: 'email-code',
    current: () => session,
    async accessToken() {
      const { data: fresh } = await supabase.auth.getSession();
      return fresh.session?.access_token ?? null;
    },
    signInWithDevLogin: () => Promise.reject(new Error('The dev login exists only in local and test builds.')),
    async sendCode(email) {
      const { error } = await supabase.auth.signInWithOtp({ email, options: { shouldCreateUser: true } });
      if (error) throw new Error(`The code could not be sent: ${error.message}`);
    },
    async verifyCode(email, code) {
      const { data: verified, error } = await supabase.auth.verifyOtp({ email, token: code, type: 'email' });
      if (error || !verified.session)
        throw new Error(`That code did not work: ${error?.message ?? 'no session was returned'}. Check it or ask for a new one.`);
      session = sessionFromAccessToken(verified.session.access_token);
      return session;
    },
    async signOut() {
      await supabase.auth.signOut();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function createSessionStore(app: 'city' | 'admin'): Promise<SessionStore> {
  const storageKey = `microdao.${app}.session`;
  const supabaseUrl = import.meta.env.VITE_SUPABASE_URL as string | undefined;
  const anonKey = import.meta.env.VITE_SUPABASE_ANON_KEY as string | undefined;
  return supabaseUrl && anonKey ? supabaseStore(supabaseUrl, anonKey, storageKey) : Promise.resolve(devLoginStore(storageKey));
}
