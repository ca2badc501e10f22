// The one error shape of every 4xx/5xx answer: { "error": { "code", "message", "request_id" } }. `code` is
// stable (clients branch on it), `message` is a sentence a person can act on, `request_id` ties the answer
// to the log lines of the request.
import { z } from 'zod';

/** The error shape as a schema: the OpenAPI document (core/route.ts) and every check of an answer use this one. */
export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), request_id: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503 | 504;

export function errorBody(code: string, message: string, requestId: string): ErrorBody {
  return { error: { code, message, request_id: requestId } };
}

/** An expected failure with its HTTP status, stable code and actionable message; thrown by handlers. */
export class ApiError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (code: string, message: string) => new ApiError(404, code, message);
export const forbidden = (code: string, message: string) => new ApiError(403, code, message);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
export const badRequest = (code: string, message: string) => new ApiError(400, code, message);

export const isErrorBody = (value: unknown): value is ErrorBody => ErrorBodySchema.safeParse(value).success;
