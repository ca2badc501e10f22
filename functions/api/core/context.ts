// What every request handler can reach: the gateway's dependencies, the request id, a logger bound to the
// request, and (on secured routes) the authenticated principal. Also the one function that writes error
// answers, and the one that runs a request's transaction as its principal.
import type { Context } from 'hono';
import type { TokenVerifier } from '../../_shared/auth.ts';
import type { Config } from '../../_shared/config.ts';
import { transactionLimits, withUserTransaction, type Sql, type Tx } from '../../_shared/db.ts';
import { errorBody, type ErrorStatus } from '../../_shared/errors.ts';
import type { FlagStore } from '../../_shared/flags/store.ts';
import type { Logger } from '../../_shared/log.ts';
import type { GatewayMetrics } from '../../_shared/metrics.ts';
import type { RateLimiter } from '../../_shared/rate-limit.ts';
import type { ErrorReporter } from '../../_shared/sentry.ts';
import type { LiveHub } from './live-hub.ts';
import type { CapabilityResolver } from './pep.ts';
import type { Authenticator, Principal } from './principal.ts';
import type { ReadinessCheck } from './readiness.ts';

export interface GatewayDeps {
  config: Config;
  /** Pool the gateway runs requests' transactions on (role-switched per request). */
  sql: Sql;
  logger: Logger;
  verifier: TokenVerifier;
  /** Bearer JWTs and access keys to principals. */
  authenticator: Authenticator;
  /** What principals hold, for the PEP (cached briefly). */
  capabilities: CapabilityResolver;
  readiness: ReadinessCheck;
  /** Live events from NATS for GET /api/live (connects on first use); also the admin status's NATS connection. */
  live: LiveHub;
  /** Where unexpected failures (the 500s) are reported: Sentry when SENTRY_DSN is set. */
  errorReporter: ErrorReporter;
  /** Counts requests against RATE_LIMIT_GLOBAL and RATE_LIMIT_PER_KEY; null: no limits (local/test/dev without a store). */
  rateLimiter: RateLimiter | null;
  /** Newest migration version this code expects (see newestMigrationVersion); /api/ready compares it. */
  expectedMigration: string | null;
  /** Feature flags, in memory, kept current by NOTIFY (loads on first use). */
  flags: FlagStore;
  /** Request metrics, served at GET /metrics (local and self-hosted only: an edge isolate is not scraped). */
  metrics?: GatewayMetrics;
}

export interface GatewayVariables {
  requestId: string;
  logger: Logger;
  deps: GatewayDeps;
  /** Stable code of the error answer, if any: the request log line carries it. */
  errorCode?: string;
  /** The Authorization header's principal, authenticated once per request (see principalOf). */
  authentication?: Promise<Principal>;
}

export type GatewayEnv = { Variables: GatewayVariables };
export type PrincipalEnv = { Variables: GatewayVariables & { principal: Principal } };

/** Answers with the one error shape and remembers the code for the request log. */
export function errorResponse(c: Context, status: ErrorStatus, code: string, message: string): Response {
  c.set('errorCode', code);
  const requestId = (c.get('requestId') as string | undefined) ?? 'unknown';
  return c.json(errorBody(code, message, requestId), status);
}

/** The request's principal, authenticated on first use and remembered (the rate limiter and the route both ask). */
export function principalOf<E extends GatewayEnv>(c: Context<E>): Promise<Principal> {
  const known = c.var.authentication;
  if (known) return known;
  const authentication = c.var.deps.authenticator.authenticate(c.req.header('authorization'));
  authentication.catch(() => undefined); // observed by whoever awaits it
  c.set('authentication', authentication);
  return authentication;
}

/** Runs `work` in one RLS-scoped transaction as the request's principal, within DB_*_TIMEOUT_MS (see
    withUserTransaction); the request id rides along in the claims, for audit entries written by triggers. */
export function inRequestTransaction<T>(c: Context<PrincipalEnv>, work: (tx: Tx) => Promise<T>): Promise<T> {
  const claims = { ...c.var.principal.claims, request_id: c.var.requestId };
  return withUserTransaction(c.var.deps.sql, claims, work, transactionLimits(c.var.deps.config));
}
