// What the apps show when a request fails: the gateway's error shape ({ error: { code, message,
// request_id } }) carries a sentence meant for people; a network failure gets one of ours.

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

export class ApiUnreachableError extends Error {
  constructor(readonly url: string) {
    super(`The API at ${url} cannot be reached. Check your connection; if it persists, the service may be down.`);
    this.name = 'ApiUnreachableError';
  }
}

/** Turns a failed response into an ApiRequestError, whatever its body looks like. */
export async function errorFromResponse(response: Response): Promise<ApiRequestError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; request_id?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ApiRequestError(
      response.status,
      error.code,
      error.message,
      typeof error.request_id === 'string' ? error.request_id : undefined,
    );
  }
  return new ApiRequestError(
    response.status,
    `http_${response.status}`,
    `The API answered ${response.status} ${response.statusText || ''}`.trim() + '.',
    response.headers.get('x-request-id') ?? undefined,
  );
}

export function describeError(error: unknown): { message: string; code?: string; requestId?: string } {
  if (error instanceof ApiRequestError) return { message: error.message, code: error.code, requestId: error.requestId };
  if (error instanceof Error) return { message: error.message };
  return { message: String(error) };
}
