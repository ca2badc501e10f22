// Verifies Supabase Auth access tokens with jose: HS256 with the project's JWT secret (legacy signing) or
// the project's JWKS for asymmetric signing keys; a project rotating from one to the other accepts both,
// chosen by the token's `alg`. Every way a token can be wrong has its own stable error code.
// Also mints tokens with the same claims Supabase Auth puts in them, for the local/test dev login only.
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { jwksUrl, type Config } from './config.ts';

export type AuthErrorCode =
  | 'auth_missing'
  | 'auth_malformed'
  | 'auth_expired'
  | 'auth_not_yet_valid'
  | 'auth_bad_signature'
  | 'auth_wrong_audience'
  | 'auth_wrong_issuer'
  | 'auth_not_a_user'
  | 'auth_keys_unavailable'
  // access keys (functions/_shared/access-keys.ts): each way a key can be wrong has its own code
  | 'key_malformed'
  | 'key_checksum_mismatch'
  | 'key_wrong_environment'
  | 'key_unknown'
  | 'key_revoked'
  | 'key_expired';

/** Why a request is not authenticated. Every code is a 401 except auth_keys_unavailable (our side: 503). Never
    carries the token or key itself. */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
  get status(): 401 | 503 {
    return this.code === 'auth_keys_unavailable' ? 503 : 401;
  }
}

/** The claims of a signed-in user's access token, as Supabase Auth issues them. */
export interface UserClaims extends JWTPayload {
  sub: string;
  role: 'authenticated';
  email?: string;
  session_id?: string;
  /** Set by the auth service only (never by the user): provider, and platform flags such as platform_admin. */
  app_metadata?: Record<string, unknown>;
  /** Set by the user at sign-up or later: display_name and the like. Never trust it for authorization. */
  user_metadata?: Record<string, unknown>;
}

export interface TokenVerifier {
  verify(token: string): Promise<UserClaims>;
}

type AuthSettings = Pick<Config, 'JWT_SECRET' | 'AUTH_JWKS_URL' | 'SUPABASE_URL' | 'JWT_AUDIENCE' | 'JWT_ISSUER'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ASYMMETRIC_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'];
const CLOCK_TOLERANCE_SECONDS = 30;

/** Extracts the token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined | null): string {
  if (!header || !header.trim())
    throw new AuthError('auth_missing', 'Sign in first: send the header `Authorization: Bearer <access token or access key>`.');
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  if (!match) {
    throw new AuthError(
      'auth_malformed',
      'The Authorization header must be `Bearer <access token>` (a JWT from Supabase Auth) or `Bearer mdao_…` (an access key).',
    );
  }
  return match[1]!;
}

export function createTokenVerifier(settings: AuthSettings, options: { jwks?: JWTVerifyGetKey } = {}): TokenVerifier {
  // imported once: handing jose the raw bytes would import the HMAC key again on every request
  const secret = settings.JWT_SECRET
    ? crypto.subtle.importKey('raw', new TextEncoder().encode(settings.JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
    : undefined;
  const keySetUrl = jwksUrl(settings);
  const jwks = options.jwks ?? (keySetUrl ? createRemoteJWKSet(new URL(keySetUrl)) : undefined);
  const expectations = {
    audience: settings.JWT_AUDIENCE,
    issuer: settings.JWT_ISSUER,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['exp', 'sub'],
  };

  const recentlyVerified = createVerifiedTokenCache();
  return {
    async verify(token) {
      const cached = recentlyVerified.get(token);
      if (cached) return cached;
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw new AuthError('auth_malformed', 'The access token is not a JWT; send the access_token of a Supabase Auth session.');
      }
      const useKeySet = alg !== undefined && ASYMMETRIC_ALGORITHMS.includes(alg) && jwks !== undefined;
      if (!useKeySet && !(alg === 'HS256' && secret)) {
        throw new AuthError(
          'auth_bad_signature',
          `The access token is signed with ${alg ?? 'no algorithm'}, which this environment does not accept; sign in to this environment again.`,
        );
      }
      let payload: JWTPayload;
      try {
        ({ payload } = useKeySet
          ? await jwtVerify(token, jwks!, { ...expectations, algorithms: ASYMMETRIC_ALGORITHMS })
          : await jwtVerify(token, await secret!, { ...expectations, algorithms: ['HS256'] }));
      } catch (error) {
        throw toAuthError(error, settings, useKeySet);
      }
      const claims = asUserClaims(payload);
      recentlyVerified.remember(token, claims);
      return claims;
    },
  };
}

const VERIFIED_TOKEN_TTL_MS = 60_000;
const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/**
 * Tokens that verified in the last minute, keyed by the whole token (signature included), so a client
 * sending the same token on every request pays for one signature check a minute. A hit still honours the
 * token's own expiry; the short TTL bounds how long a key removed from the JWKS keeps working here.
 */
function createVerifiedTokenCache() {
  const entries = new Map<string, { claims: UserClaims; until: number }>();
  return {
    get(token: string): UserClaims | undefined {
      const entry = entries.get(token);
      if (!entry) return undefined;
      const now = Date.now();
      const expiresAt = (entry.claims.exp ?? 0) * 1000 + CLOCK_TOLERANCE_SECONDS * 1000;
      if (now >= entry.until || now >= expiresAt) {
        entries.delete(token);
        return undefined;
      }
      return entry.claims;
    },
    remember(token: string, claims: UserClaims): void {
      // Map keeps insertion order: dropping the first entry drops the oldest
      if (entries.size >= VERIFIED_TOKEN_CACHE_SIZE) entries.delete(entries.keys().next().value!);
      entries.set(token, { claims, until: Date.now() + VERIFIED_TOKEN_TTL_MS });
    },
  };
}

const notAUser = (role: unknown) =>
  new AuthError(
    'auth_not_a_user',
    `The token's role is ${JSON.stringify(role ?? null)}; this API needs a signed-in user's access token, not an API key.`,
  );

function asUserClaims(payload: JWTPayload): UserClaims {
  if (payload.role !== 'authenticated') throw notAUser(payload.role);
  if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) {
    throw new AuthError('auth_not_a_user', "The token's subject is not a user id; sign in as a user and send that session's access token.");
  }
  return payload as UserClaims;
}

function toAuthError(error: unknown, settings: AuthSettings, usedKeySet: boolean): AuthError {
  if (error instanceof joseErrors.JWTExpired) {
    return new AuthError('auth_expired', 'The access token has expired; refresh the session or sign in again.');
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    // claims are checked after the signature, so the payload is authentic: an API key (anon, service_role)
    // is refused as what it is, whatever else is missing from it
    if (error.payload.role !== 'authenticated') return notAUser(error.payload.role);
    if (error.claim === 'aud') {
      return new AuthError(
        'auth_wrong_audience',
        `The access token was issued for another audience; this API accepts only "${settings.JWT_AUDIENCE}" tokens (a user session).`,
      );
    }
    if (error.claim === 'iss') {
      return new AuthError('auth_wrong_issuer', `The access token comes from another issuer; sign in through ${settings.JWT_ISSUER}.`);
    }
    if (error.claim === 'nbf') {
      return new AuthError('auth_not_yet_valid', 'The access token is not valid yet; check the clock of the machine that issued it.');
    }
    return new AuthError('auth_malformed', `The access token lacks a valid "${error.claim}" claim; send a Supabase Auth access token.`);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) {
    return new AuthError(
      'auth_bad_signature',
      "The access token's signature does not match this environment's signing keys; sign in to this environment again.",
    );
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return new AuthError(
      'auth_bad_signature',
      'The access token is signed with an algorithm this environment does not accept; sign in again.',
    );
  }
  const keySetFailed =
    error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid || !(error instanceof joseErrors.JOSEError);
  if (usedKeySet && keySetFailed) {
    // the key set could not be fetched or parsed: our configuration or the network, not the caller's token
    return new AuthError('auth_keys_unavailable', 'The signing keys could not be loaded to check the access token; try again shortly.');
  }
  return new AuthError(
    'auth_malformed',
    'The access token could not be parsed as a JWT; send the access_token of a Supabase Auth session.',
  );
}

export interface MintedSession {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  expires_at: number;
  claims: UserClaims;
}

/**
 * Signs an access token carrying the claims Supabase Auth (GoTrue) issues for a password sign-in.
 * Only the dev login (local/test) calls this; real sessions come from Supabase Auth.
 */
export async function mintAccessToken(
  settings: Pick<Config, 'JWT_SECRET' | 'JWT_AUDIENCE' | 'JWT_ISSUER'>,
  user: { id: string; email: string; userMetadata?: Record<string, unknown>; appMetadata?: Record<string, unknown> },
  options: { ttlSeconds?: number; now?: Date } = {},
): Promise<MintedSession> {
  if (!settings.JWT_SECRET) throw new Error('mintAccessToken needs JWT_SECRET');
  const ttl = options.ttlSeconds ?? 3600;
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: UserClaims = {
    sub: user.id,
    aud: settings.JWT_AUDIENCE,
    ...(settings.JWT_ISSUER ? { iss: settings.JWT_ISSUER } : {}),
    iat: issuedAt,
    exp: issuedAt + ttl,
    email: user.email,
    phone: '',
    // as GoTrue does: the account's raw_app_meta_data (e.g. platform_admin), which only the service role can set
    app_metadata: { provider: 'email', providers: ['email'], ...user.appMetadata },
    user_metadata: user.userMetadata ?? {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: issuedAt }],
    session_id: crypto.randomUUID(),
    is_anonymous: false,
  };
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(settings.JWT_SECRET));
  return { access_token: token, token_type: 'bearer', expires_in: ttl, expires_at: issuedAt + ttl, claims };
}
