// Authenticates access keys: shape, checksum and environment offline, then the key's SHA-256 looked up in
// Postgres (app.find_access_key, as service_role). Lookups are remembered for KEY_CACHE_MS, so a busy agent
// costs one lookup per few seconds per gateway instance, and a revocation reaches every instance within that
// time (the database refuses a revoked key at once anyway: app.current_access_key checks on every statement).
// last_used_at is written at most once a minute per key.
import { AuthError } from '../../_shared/auth.ts';
import { hashAccessKey, parseAccessKey } from '../../_shared/access-keys.ts';
import type { Config } from '../../_shared/config.ts';
import { transactionLimits, withServiceRole, type Sql } from '../../_shared/db.ts';
import type { Logger } from '../../_shared/log.ts';
import type { KeyPrincipal } from './principal.ts';

/** Under the 5 s within which a revocation must take effect on every gateway instance. */
export const KEY_CACHE_MS = 3000;
const KEY_CACHE_SIZE = 10_000;
const LAST_USED_INTERVAL_MS = 60_000;

interface KeyRow {
  key_id: string;
  principal_id: string;
  principal_kind: 'agent' | 'integration';
  principal_name: string;
  team_id: string;
  bundle: string;
  environment: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface AccessKeyAuthenticator {
  authenticate(key: string): Promise<KeyPrincipal>;
}

export function createAccessKeyAuthenticator(
  deps: { sql: Sql; config: Config; logger: Logger },
  cacheMs = KEY_CACHE_MS,
): AccessKeyAuthenticator {
  const { sql, config, logger } = deps;
  const limits = transactionLimits(config);
  const cache = new Map<string, { row: KeyRow | null; until: number }>();
  const lastTouched = new Map<string, number>();

  const lookup = async (hex: string): Promise<KeyRow | null> => {
    const cached = cache.get(hex);
    if (cached && cached.until > Date.now()) return cached.row;
    const [row] = await withServiceRole(sql, (tx) => tx<KeyRow[]>`select * from app.find_access_key(decode(${hex}, 'hex'))`, limits);
    if (cache.size >= KEY_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(hex, { row: row ?? null, until: Date.now() + cacheMs });
    return row ?? null;
  };

  const noteUse = (row: KeyRow) => {
    const now = Date.now();
    const last = Math.max(lastTouched.get(row.key_id) ?? 0, row.last_used_at ? Date.parse(row.last_used_at) : 0);
    if (now - last < LAST_USED_INTERVAL_MS) return;
    if (lastTouched.size >= KEY_CACHE_SIZE) lastTouched.delete(lastTouched.keys().next().value!);
    lastTouched.set(row.key_id, now);
    // bookkeeping: a failure must not fail the request
    withServiceRole(sql, (tx) => tx`select app.touch_access_key(${row.key_id})`, limits).catch((error: Error) =>
      logger.warn('could not record that an access key was used', { key_id: row.key_id, error: error.message }),
    );
  };

  return {
    async authenticate(key) {
      const parsed = parseAccessKey(key, config.APP_ENV);
      if (!parsed.ok) throw new AuthError(parsed.error, parsed.message);
      const row = await lookup(await hashAccessKey(key));
      if (!row)
        throw new AuthError('key_unknown', 'No access key matches this one; ask a team admin for a key (it is shown once, at creation).');
      if (row.revoked_at) throw new AuthError('key_revoked', 'This access key has been revoked; ask a team admin for a new one.');
      const expiresAt = Date.parse(row.expires_at);
      if (expiresAt <= Date.now()) throw new AuthError('key_expired', 'This access key has expired; ask a team admin to rotate it.');
      noteUse(row);
      return {
        kind: 'key',
        id: row.principal_id,
        keyId: row.key_id,
        teamId: row.team_id,
        bundle: row.bundle,
        principalKind: row.principal_kind,
        name: row.principal_name,
        expiresAt,
        claims: {
          sub: row.principal_id,
          role: 'authenticated',
          aud: 'authenticated',
          key_id: row.key_id,
          team_id: row.team_id,
          bundle: row.bundle,
          principal_kind: row.principal_kind,
        },
      };
    },
  };
}
