// How an agent acts on the platform: HTTP calls to the gateway with its run's access key, never the database.
// Every call carries the run's correlation id as X-Request-ID, so the agent's writes (its reply and the reply's
// message.created event) are traced back to the request that started the run.

export class GatewayCallFailed extends Error {
  override name = 'GatewayCallFailed';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GatewayClientOptions {
  baseUrl: string;
  accessKey: string;
  correlationId: string;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Per call (default 10 s). */
  timeoutMs?: number;
}

export class GatewayClient {
  constructor(private readonly options: GatewayClientOptions) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const signals = [AbortSignal.timeout(this.options.timeoutMs ?? 10_000), ...(this.options.signal ? [this.options.signal] : [])];
    // appended, not resolved: the gateway may sit under a path (Supabase serves it at /functions/v1/api)
    const response = await (this.options.fetch ?? fetch)(`${this.options.baseUrl.replace(/\/+$/, '')}/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.options.accessKey}`,
        'x-request-id': this.options.correlationId,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any(signals),
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      throw new GatewayCallFailed(
        response.status,
        error?.code ?? 'http_error',
        `${method} ${path}: ${response.status} ${error?.message ?? ''}`.trim(),
      );
    }
    return parsed as T;
  }
}
