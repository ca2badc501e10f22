// Who a request acts as: a person signed in with Supabase Auth (a JWT), or an agent or integration with an
// access key (`Bearer mdao_…`). Either way the request then runs under RLS as that principal — a key as its
// own service principal, with the key's team and bundle in the claims, never as a human.
import type { Context } from 'hono';
import { bearerToken, type TokenVerifier, type UserClaims } from '../../_shared/auth.ts';
import { looksLikeAccessKey } from '../../_shared/access-keys.ts';
import type { TransactionClaims } from '../../_shared/db.ts';
import type { AccessKeyAuthenticator } from './access-key-auth.ts';
import { principalOf, type PrincipalEnv } from './context.ts';

export interface UserPrincipal {
  kind: 'user';
  id: string;
  claims: UserClaims;
  platformAdmin: boolean;
  /** When the credential stops being valid (ms since the epoch): the live stream ends there. */
  expiresAt: number;
}

export interface KeyPrincipal {
  kind: 'key';
  /** The service principal's account id: what the request's writes are authored by. */
  id: string;
  keyId: string;
  teamId: string;
  bundle: string;
  principalKind: 'agent' | 'integration';
  name: string;
  expiresAt: number;
  claims: TransactionClaims;
}

export type Principal = UserPrincipal | KeyPrincipal;

/** Whether the verified access token marks a platform admin (app_metadata is set by the auth service only). */
export const isPlatformAdmin = (claims: { app_metadata?: unknown }): boolean =>
  (claims.app_metadata as { platform_admin?: unknown } | undefined)?.platform_admin === true;

export interface Authenticator {
  /** The principal of an Authorization header; an AuthError with its own code for every way it can be wrong. */
  authenticate(authorization: string | undefined | null): Promise<Principal>;
}

export function createAuthenticator(verifier: TokenVerifier, keys: AccessKeyAuthenticator): Authenticator {
  return {
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      if (looksLikeAccessKey(token)) return keys.authenticate(token);
      const claims = await verifier.verify(token);
      return { kind: 'user', id: claims.sub, claims, platformAdmin: isPlatformAdmin(claims), expiresAt: (claims.exp ?? 0) * 1000 };
    },
  };
}

/** Authenticates the request (401 with a distinct code otherwise), exposes its principal as `c.var.principal`
    and binds it to the request's log line. */
export async function authenticatePrincipal(c: Context<PrincipalEnv>): Promise<Principal> {
  const principal = await principalOf(c);
  c.set('principal', principal);
  c.set('logger', c.var.logger.child({ user_id: principal.id, ...(principal.kind === 'key' ? { key_id: principal.keyId } : {}) }));
  return principal;
}
