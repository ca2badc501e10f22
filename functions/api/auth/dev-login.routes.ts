// POST /api/auth/dev-login {email}: a password-less sign-in for local development and tests. It creates the
// account in auth.users if it is new (plain Postgres's compat auth schema) and mints the access token
// Supabase Auth would issue. createApp mounts it only when APP_ENV is local or test and DEV_LOGIN_ENABLED
// is set; anywhere else the route does not exist.
import { z } from '@hono/zod-openapi';
import { mintAccessToken } from '../../_shared/auth.ts';
import type { Sql } from '../../_shared/db.ts';
import { createRouter, jsonBody, jsonResponse, Name, publicRoute } from '../core/route.ts';

const DevLoginBody = z
  .strictObject({
    email: z.email({ message: 'must be an email address' }).max(254, { message: 'must be at most 254 characters' }),
    display_name: Name(80).optional(),
  })
  .openapi('DevLogin', { example: { email: 'alice@demo.local' } });

const Session = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int(),
    expires_at: z.number().int(),
    user: z.object({ id: z.uuid(), email: z.string() }),
  })
  .openapi('DevSession');

const devLogin = publicRoute({
  method: 'post',
  path: '/dev-login',
  tags: ['auth'],
  summary: 'Local/test only: sign in as any email without a password',
  request: { body: jsonBody(DevLoginBody, 'Who to sign in as') },
  responses: { 200: jsonResponse(Session, 'A session, shaped like Supabase Auth’s') },
});

interface AccountRow {
  id: string;
  email: string;
  raw_user_meta_data: Record<string, unknown>;
  raw_app_meta_data: Record<string, unknown>;
}

/** The account with this email, created (with its profile, by trigger) if new. Service-level SQL: no user yet. */
async function findOrCreateAccount(sql: Sql, email: string, displayName: string | undefined): Promise<AccountRow> {
  const metadata = displayName ? { display_name: displayName } : {};
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const [account] = await sql<AccountRow[]>`
      with existing as (
        select id, email, raw_user_meta_data, raw_app_meta_data from auth.users where lower(email) = ${email}
      ), created as (
        insert into auth.users (email, raw_user_meta_data)
        select ${email}, ${sql.json(metadata)}::jsonb
        where not exists (select 1 from existing)
        on conflict do nothing
        returning id, email, raw_user_meta_data, raw_app_meta_data
      )
      select * from existing union all select * from created`;
    if (account) return account;
    // another login created the same account between our snapshot and our insert: read it on the next try
  }
  throw new Error(`could not find or create the account ${email}`);
}

export const devLoginRoutes = createRouter().openapi(devLogin, async (c) => {
  const { email, display_name: displayName } = c.req.valid('json');
  const { config, sql } = c.var.deps;
  const account = await findOrCreateAccount(sql, email.toLowerCase(), displayName);
  const session = await mintAccessToken(config, {
    id: account.id,
    email: account.email,
    userMetadata: account.raw_user_meta_data,
    appMetadata: account.raw_app_meta_data,
  });
  c.var.logger.info('dev login', { user_id: account.id });
  const { claims: _claims, ...publicSession } = session;
  return c.json({ ...publicSession, user: { id: account.id, email: account.email } }, 200);
});
