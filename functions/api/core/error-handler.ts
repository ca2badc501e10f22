// onError of the gateway: every thrown error becomes an answer in the one error shape. Expected failures
// (ApiError, AuthError, Hono's 400/413/415) keep their status; database refusals get a 4xx, 503 or 504 with a
// stable code; anything else is a 500 whose details go to the log, never to the caller.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AuthError } from '../../_shared/auth.ts';
import { isStatementTimeout } from '../../_shared/db.ts';
import { ApiError, type ErrorStatus } from '../../_shared/errors.ts';
import { errorResponse, type GatewayEnv } from './context.ts';
import { routeTemplate } from './request-metrics.ts';

interface Answer {
  status: ErrorStatus;
  code: string;
  message: string;
}

function answerForHttpException(error: HTTPException): Answer {
  switch (error.status) {
    case 400:
      return /json/i.test(error.message)
        ? { status: 400, code: 'malformed_json', message: 'The request body is not valid JSON; send a JSON object.' }
        : { status: 400, code: 'bad_request', message: `The request could not be read (${error.message}).` };
    case 413:
      return { status: 413, code: 'body_too_large', message: 'The request body is too large.' };
    case 415:
      return {
        status: 415,
        code: 'unsupported_media_type',
        message: 'Send the request body as JSON with `Content-Type: application/json`.',
      };
    default: {
      const status = (error.status >= 400 && error.status < 500 ? error.status : 500) as ErrorStatus;
      return { status, code: `http_${error.status}`, message: error.message || 'The request could not be handled.' };
    }
  }
}

const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown: the server ended the session (failover, restart, pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
]);

/** Postgres refusals that are the request's (or the moment's) fault rather than a bug; null otherwise. */
function answerForDatabaseError(error: unknown): Answer | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  if (CONNECTION_FAILURES.has(code))
    return { status: 503, code: 'database_unavailable', message: 'The database is unreachable right now; retry shortly.' };
  if (isStatementTimeout(error)) {
    return {
      status: 504,
      code: 'database_timeout',
      message: 'The database did not finish this request in time (DB_STATEMENT_TIMEOUT_MS); retry, or ask for less at once.',
    };
  }
  // 25P03: the transaction sat idle past DB_IDLE_IN_TRANSACTION_TIMEOUT_MS and Postgres ended it
  if (code === '40001' || code === '40P01' || code === '55P03' || code === '57014' || code === '53300' || code === '25P03') {
    return { status: 503, code: 'retry_later', message: 'The database was too busy to finish this request; retry it.' };
  }
  if (code === '23505')
    return { status: 409, code: 'conflict', message: 'This would duplicate something that already exists; refresh and try again.' };
  if (code === '23503')
    return { status: 409, code: 'conflict', message: 'The request refers to something that no longer exists; refresh and try again.' };
  if (code === '42501') return { status: 403, code: 'not_permitted', message: 'You do not have the rights to make this change.' };
  if (code === '23514' || code === '23502' || code.startsWith('22')) {
    return {
      status: 400,
      code: 'invalid_value',
      message: 'A value in the request is outside what is accepted; check it against /api/openapi.json.',
    };
  }
  return null;
}

export function handleError(error: unknown, c: Context<GatewayEnv>): Response {
  if (error instanceof ApiError) return errorResponse(c, error.status, error.code, error.message);
  if (error instanceof AuthError) {
    if (error.status === 401) c.header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${error.code}"`);
    return errorResponse(c, error.status, error.code, error.message);
  }
  const logger = c.var.logger ?? c.var.deps.logger;
  if (error instanceof HTTPException) {
    const answer = answerForHttpException(error);
    return errorResponse(c, answer.status, answer.code, answer.message);
  }
  const database = answerForDatabaseError(error);
  if (database) {
    logger.warn('database refused the request', { error, error_code: database.code });
    return errorResponse(c, database.status, database.code, database.message);
  }
  logger.error('unhandled error', { error });
  c.var.deps.errorReporter.report(error, { request_id: c.var.requestId, method: c.req.method, route: routeTemplate(c) });
  return errorResponse(
    c,
    500,
    'internal_error',
    `Something went wrong on our side; retry, and if it keeps happening report request id ${c.var.requestId ?? 'unknown'}.`,
  );
}
