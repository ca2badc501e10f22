// Test harness of the gateway: the real app (createApp) on a fresh database cloned from the migrated
// template, real NATS and Redis for /api/ready, log lines captured in memory, and small request helpers.
import { readdirSync } from 'node:fs';
import { createApp, type App } from '../../functions/api/app.ts';
import { createGatewayDeps, type GatewayOptions } from '../../functions/api/gateway.ts';
import { newestMigrationVersion } from '../../functions/api/core/readiness.ts';
import { loadConfig, type Config } from '../../functions/_shared/config.ts';
import { createDatabase, type Sql } from '../../functions/_shared/db.ts';
import { isErrorBody, type ErrorBody } from '../../functions/_shared/errors.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { rateLimiterFromConfig } from '../../functions/_shared/rate-limit.ts';
import { createTestDatabase, databaseVariables, loadSeed, type TestDatabase } from '../harness/database.ts';
import { testServices } from '../harness/services.ts';

export const TEST_JWT_SECRET = 'test-only-jwt-secret-0123456789abcdefghijklmnop';
export const MIGRATIONS_DIRECTORY = new URL('../../supabase/migrations/', import.meta.url);
export const expectedMigration = () => newestMigrationVersion(readdirSync(MIGRATIONS_DIRECTORY));

/** The variables a test gateway runs with, pointed at `database`. */
export function testEnvironment(database: TestDatabase, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    APP_ENV: 'test',
    LOG_LEVEL: 'info',
    ...databaseVariables(database),
    DB_POOL_MAX: '4',
    NATS_URL: testServices.natsUrl,
    REDIS_URL: testServices.redisUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    DEV_LOGIN_ENABLED: 'true',
    WEB_ORIGINS: 'http://127.0.0.1:5173',
    BODY_LIMIT_BYTES: '16384',
    // limits a test never reaches unless it is about them (tests/api/rate-limit.test.ts sets its own)
    RATE_LIMIT_GLOBAL: '1000000',
    RATE_LIMIT_PER_KEY: '1000000',
    ...overrides,
  };
}

export interface TestGateway {
  app: App;
  config: Config;
  database: TestDatabase;
  /** The gateway's own pool (timestamps as ISO strings): pass it to asUser to run the handlers' SQL. */
  sql: Sql;
  logs: string[];
  close(): Promise<void>;
}

/** A gateway on a fresh database (with the demo seed unless `seed: false`). Close it in afterAll. */
export async function startTestGateway(
  label: string,
  options: { seed?: boolean; env?: Record<string, string>; app?: Partial<GatewayOptions> } = {},
): Promise<TestGateway> {
  const database = await createTestDatabase(label);
  if (options.seed !== false) await loadSeed(database.sql);
  const config = loadConfig(testEnvironment(database, options.env));
  const sql = createDatabase(config);
  const logs: string[] = [];
  const logger = createLogger({ level: 'info', sink: (line) => logs.push(line) });
  // the real limiter on the real Redis (own key prefix under APP_ENV=test), closed with the gateway
  const rateLimiter = options.app?.rateLimiter === undefined ? rateLimiterFromConfig(config) : options.app.rateLimiter;
  const app = createApp(createGatewayDeps({ config, sql, logger, expectedMigration: expectedMigration(), ...options.app, rateLimiter }));
  return {
    app,
    config,
    database,
    sql,
    logs,
    async close() {
      await rateLimiter?.close();
      await sql.end({ timeout: 5 });
      await database.drop();
    },
  };
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  token?: string;
  /** JSON-encoded unless a string (sent as is, JSON content type) or bytes (sent with no content type) */
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request through app.request(); a JSON body unless `body` is already a string. */
export async function call<T = unknown>(app: App, method: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined;
  if (options.body instanceof Uint8Array) {
    body = options.body; // bytes: sent without any Content-Type
  } else if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await app.request(path, { method, headers, body: body as BodyInit | undefined });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text, assertions will show it
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

export interface Session {
  token: string;
  userId: string;
  email: string;
}

export async function devLogin(app: App, email: string, displayName?: string): Promise<Session> {
  const answer = await call<{ access_token: string; user: { id: string } }>(app, 'POST', '/api/auth/dev-login', {
    body: displayName ? { email, display_name: displayName } : { email },
  });
  if (answer.status !== 200) throw new Error(`dev login of ${email} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { token: answer.body.access_token, userId: answer.body.user.id, email };
}

/** Asserts the one error shape and returns it (fails the test with the whole answer otherwise). */
export function expectErrorShape(answer: Answer): ErrorBody['error'] {
  if (!isErrorBody(answer.body)) throw new Error(`not the error shape: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.error;
}

export interface CreatedAccessKey {
  key: string;
  keyId: string;
  principalId: string;
}

/** Creates an access key (and a new agent principal, unless `principalId` is given) through the API, as a team admin. */
export async function createAccessKey(
  app: App,
  adminToken: string,
  teamId: string,
  options: { bundle?: string; name?: string; principalId?: string; expiresInDays?: number } = {},
): Promise<CreatedAccessKey> {
  const name = options.name ?? `key-${Math.random().toString(36).slice(2, 8)}`;
  const answer = await call<{ key: string; access_key: { id: string; principal: { id: string } } }>(
    app,
    'POST',
    `/api/teams/${teamId}/keys`,
    {
      token: adminToken,
      body: {
        name,
        bundle: options.bundle ?? 'agent',
        expires_in_days: options.expiresInDays ?? 30,
        principal: options.principalId ? { id: options.principalId } : { kind: 'agent', name },
      },
    },
  );
  if (answer.status !== 201) throw new Error(`creating an access key failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { key: answer.body.key, keyId: answer.body.access_key.id, principalId: answer.body.access_key.principal.id };
}

/** `invitee` joins `teamId` the way people do: `inviter` invites their email, they accept. Returns the accept's status. */
export async function joinByInvitation(app: App, inviter: Session, teamId: string, invitee: Session, role = 'member'): Promise<number> {
  const invited = await call(app, 'POST', `/api/teams/${teamId}/invitations`, {
    token: inviter.token,
    body: { email: invitee.email, role },
  });
  if (invited.status >= 300) throw new Error(`inviting ${invitee.email} failed: ${invited.status} ${JSON.stringify(invited.body)}`);
  const mine = await call<{ items: { id: string; team_id: string }[] }>(app, 'GET', '/api/invitations/mine', { token: invitee.token });
  const invitation = mine.body.items.find((item) => item.team_id === teamId);
  if (!invitation) throw new Error(`${invitee.email} has no invitation to ${teamId}`);
  return (await call(app, 'POST', `/api/invitations/${invitation.id}/accept`, { token: invitee.token })).status;
}
