// Building blocks of the route definitions: the zod schemas shared by several resources, the error answers
// every route documents, the validation hook that turns zod issues into the one error shape, and
// the route factories (`securedRoute` with its capability, `publicRoute`), each of which makes a route's access rule
// true in the OpenAPI document and in fact with one declaration.
import { createRoute, OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ErrorBodySchema } from '../../_shared/errors.ts';
import type { Capability } from '../../_shared/capabilities.ts';
import { errorResponse, type GatewayEnv } from './context.ts';
import { requireCapability } from './pep.ts';

export const ErrorSchema = ErrorBodySchema.extend({
  error: ErrorBodySchema.shape.error.extend({
    code: z.string().openapi({ example: 'channel_not_found' }),
    message: z.string().openapi({ example: 'No channel with this id is visible to you.' }),
    request_id: z.string().openapi({ example: '0f6d2c1e-6a0b-4b7b-9f0e-3c1d2b4a5e6f' }),
  }),
}).openapi('Error');

const errorDescriptions = {
  400: 'The request is malformed or fails validation',
  401: 'Missing, malformed, expired or wrongly signed access token, or an unknown, revoked or expired access key',
  403: 'Signed in, but without the capability this needs (capability_missing names it), or not allowed by the rules',
  404: 'Nothing with this id is visible to the caller',
  409: 'Conflicts with the current state',
  413: 'The request body is larger than BODY_LIMIT_BYTES',
  415: 'The request body is not application/json',
  422: 'Well-formed, but cannot be done as asked (an unknown event type, a payload off its schema; the code says why, e.g. idempotency_key_reused, insufficient_credits)',
  429: 'Over the caller’s rate limit (rate_limited_key) or the global one (rate_limited_global); Retry-After says when to retry',
  503: 'A dependency is unavailable',
  504: 'The database did not finish in time (database_timeout)',
} as const;
type DocumentedErrorStatus = keyof typeof errorDescriptions;

/** The error answers of a route, each with the shared error schema. */
export function errorResponses<const S extends DocumentedErrorStatus>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: errorDescriptions[status], content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  ) as unknown as { [K in S]: { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } } };
}

/** A JSON answer of a route. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

const bodyErrors = [400, 413, 415] as const;

/** A JSON request body: always required, so a wrong Content-Type is a 415 rather than a silently empty body. */
export function jsonBody<T extends z.ZodType>(schema: T, description: string) {
  return { required: true, description, content: { 'application/json': { schema } } } as const;
}

/**
 * A route that needs a signed-in principal (a Supabase Auth session or an access key) holding `capability`:
 * authentication, the PEP check and the OpenAPI security and `x-capability` come from this one declaration,
 * so none can be forgotten without the others.
 */
/** Either credential works: a Supabase Auth session's access token or an access key (both `Authorization: Bearer`). */
const SESSION_OR_KEY: Record<string, string[]>[] = [{ bearerAuth: [] }, { accessKey: [] }];

export function securedRoute<const R extends Omit<RouteConfig, 'security' | 'middleware'>>(capability: Capability, route: R) {
  return createRoute({
    ...route,
    'x-capability': capability,
    security: SESSION_OR_KEY,
    middleware: [requireCapability(capability)] as const,
    responses: { ...route.responses, ...errorResponses(401, 403, 429, ...(route.request?.body ? bodyErrors : [])) },
  });
}

/** A route anyone may call (health, readiness, the OpenAPI document, the local dev login): said so explicitly. */
export function publicRoute<const R extends Omit<RouteConfig, 'security' | 'middleware'>>(route: R) {
  return createRoute({
    ...route,
    'x-public': true,
    security: [],
    responses: { ...route.responses, ...errorResponses(429, ...(route.request?.body ? bodyErrors : [])) },
  });
}

/**
 * A route whose caller proves who it is with a Standard Webhooks signature over the raw body (the Embassy's
 * partner webhooks), not with a session or an access key: public as far as bearer authentication goes
 * (`x-public`, no `security`), and saying so with `x-authentication: standard-webhooks`. The handler verifies
 * the signature before it reads anything else; the route-declaration test holds every such route to it.
 */
export function signedWebhookRoute<const R extends Omit<RouteConfig, 'security' | 'middleware'>>(route: R) {
  return createRoute({
    ...route,
    'x-public': true,
    'x-authentication': 'standard-webhooks',
    security: [],
    responses: { ...route.responses, ...errorResponses(401, 413, 429) },
  });
}

export const Uuid = z.uuid({ message: 'must be a UUID such as 0f6d2c1e-6a0b-4b7b-9f0e-3c1d2b4a5e6f' });
export const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-11-27T14:05:00.123456Z' });
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$/;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const SINGLE_LINE = /^[^\u0000-\u001F\u007F]*$/;

/** A single-line name: trimmed, 1..max characters, no control characters. */
export const Name = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(max, { message: `must be at most ${max} characters` })
    .regex(SINGLE_LINE, { message: 'must be a single line without control characters' });

/** Free text (message bodies, topics): newlines and tabs allowed, NUL and other control characters not. */
export const Text = (max: number) =>
  z
    .string()
    .max(max, { message: `must be at most ${max} characters` })
    .regex(NO_CONTROL_CHARACTERS, { message: 'must not contain control characters other than newline and tab' });

export const PageLimit = z
  .string()
  .regex(/^[0-9]{1,6}$/, { message: 'must be a whole number from 1 to 100' })
  .transform(Number)
  .pipe(z.number().min(1, { message: 'must be at least 1' }).max(100, { message: 'must be at most 100' }))
  .default(50)
  .openapi({ type: 'integer', minimum: 1, maximum: 100, description: 'Items per page (1–100, default 50)', example: 50 });

const targetNames: Record<string, { code: string; label: string }> = {
  json: { code: 'invalid_body', label: 'request body' },
  query: { code: 'invalid_query', label: 'query string' },
  param: { code: 'invalid_path', label: 'path' },
  header: { code: 'invalid_header', label: 'headers' },
};

/** zod issues as one sentence: where, what is wrong, and where the expected shape is documented. */
export function describeIssues(target: string, issues: readonly z.core.$ZodIssue[]): string {
  const { label } = targetNames[target] ?? { label: target };
  const parts = issues.slice(0, 5).map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : label;
    return `${where} ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`;
  });
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return `Invalid ${label}: ${parts.join('; ')}${more}. The expected shapes are in /api/openapi.json.`;
}

/** Validation hook of every router: a failed zod check answers 400 in the error shape. */
export function validationHook(result: { success: boolean; target: string; error?: z.ZodError }, c: Context) {
  if (result.success || !result.error) return undefined;
  const code = targetNames[result.target]?.code ?? 'invalid_request';
  return errorResponse(c, 400, code, describeIssues(result.target, result.error.issues));
}

/** A router whose validation failures use the error shape (set on each router, not inherited by accident). */
export function createRouter() {
  return new OpenAPIHono<GatewayEnv>({ defaultHook: validationHook });
}
