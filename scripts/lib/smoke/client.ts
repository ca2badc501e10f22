// The smoke check's HTTP client and its step failures, shared by the chat steps (smoke-check.ts) and the
// post-deploy checklist items (checklist/*.ts).

export class StepFailure extends Error {}

/** A checklist item that cannot run in this configuration (say, without the test secrets it needs): reported
    "not checked" with the reason, which --strict refuses like any step that did not pass. */
export class StepNotCheckable extends Error {}

export interface Reply {
  status: number;
  body: unknown;
  ms: number;
}

export function createClient(options: { timeoutMs: number }) {
  let token: string | undefined;
  return {
    setToken(value: string) {
      token = value;
    },
    async request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
      const started = performance.now();
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            'x-request-id': `smoke-${Date.now().toString(36)}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        const reason =
          (error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs / 1000} s` : (error as Error).message;
        throw new StepFailure(
          `${method} ${url} failed: ${reason}${(error as { cause?: Error }).cause ? ` (${(error as { cause: Error }).cause.message})` : ''}`,
        );
      }
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text for the message
      }
      return { status: response.status, body: parsed, ms: Math.round(performance.now() - started) };
    },
  };
}

export function expectStatus(reply: Reply, expected: number, what: string): Record<string, unknown> {
  if (reply.status !== expected) {
    const error = (reply.body as { error?: { code?: string; message?: string } } | null)?.error;
    const said = error ? `${error.code}: ${error.message}` : JSON.stringify(reply.body).slice(0, 300);
    throw new StepFailure(`${what} answered ${reply.status}, expected ${expected} (${said})`);
  }
  return (reply.body ?? {}) as Record<string, unknown>;
}

export type SmokeClient = ReturnType<typeof createClient>;
