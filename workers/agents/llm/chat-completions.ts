// A client of the OpenAI-compatible chat-completions protocol (POST {base}/chat/completions), as OpenAI, vLLM,
// Ollama and most gateways speak it: messages and function tools in, one choice with content or tool_calls
// and the token usage out. Every failure becomes an LlmCallFailed whose code says what kind it was, so a run
// fails with a reason a person can act on and the metrics count errors by kind.

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  message: { content: string | null; tool_calls: ToolCall[] };
  finishReason: string | null;
  usage: TokenUsage;
}

/** rate_limit (429), auth (401/403), bad_request (other 4xx), server (5xx, unreachable, unreadable answer), timeout. */
export type LlmErrorKind = 'rate_limit' | 'auth' | 'bad_request' | 'server' | 'timeout';

export class LlmCallFailed extends Error {
  override name = 'LlmCallFailed';
  readonly code: `llm_${LlmErrorKind}`;
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly status?: number,
    /** Tokens the run had used before this call failed (recorded on the run). */
    public usage?: Record<string, number>,
  ) {
    super(message);
    this.code = `llm_${kind}`;
  }
}

export interface ChatCompletionsSettings {
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export function classifyStatus(status: number): LlmErrorKind {
  if (status === 429) return 'rate_limit';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  return status >= 500 ? 'server' : 'bad_request';
}

const explanations: Record<LlmErrorKind, string> = {
  rate_limit: 'the provider is rate limiting this key; the run can be started again later',
  auth: 'the provider refused the API key; check LLM_API_KEY',
  bad_request: 'the provider refused the request; check LLM_MODEL and the agent settings',
  server: 'the provider failed or could not be reached; check LLM_BASE_URL and the provider status',
  timeout: 'the provider did not answer within LLM_TIMEOUT_MS',
};

/** The provider's own error message, if its body has the usual {"error": {"message": …}} shape (never the key). */
function providerMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string };
    const message = typeof parsed.error === 'string' ? parsed.error : parsed.error?.message;
    return typeof message === 'string' ? message.slice(0, 300) : '';
  } catch {
    return '';
  }
}

export async function createChatCompletion(
  settings: ChatCompletionsSettings,
  request: { messages: ChatMessage[]; tools: ToolDefinition[] },
  signal: AbortSignal,
): Promise<ChatCompletion> {
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await (settings.fetch ?? fetch)(`${settings.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}),
      },
      body: JSON.stringify({ model: settings.model, messages: request.messages, tools: request.tools, tool_choice: 'auto' }),
      signal: AbortSignal.any([timeout, signal]),
    });
    text = await response.text();
  } catch (error) {
    if (signal.aborted) throw error; // the run was cancelled: not the provider's fault
    if (timeout.aborted) throw new LlmCallFailed('timeout', `the model provider: ${explanations.timeout} (${settings.timeoutMs} ms)`);
    throw new LlmCallFailed('server', `the model provider: ${explanations.server} (${(error as Error).message})`);
  }
  if (!response.ok) {
    const kind = classifyStatus(response.status);
    const said = providerMessage(text);
    throw new LlmCallFailed(
      kind,
      `the model provider answered ${response.status}: ${explanations[kind]}${said ? ` (${said})` : ''}`,
      response.status,
    );
  }
  let body: {
    choices?: { message?: { content?: string | null; tool_calls?: ToolCall[] }; finish_reason?: string | null }[];
    usage?: Partial<TokenUsage>;
  };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new LlmCallFailed('server', 'the model provider answered with something that is not JSON');
  }
  const choice = body.choices?.[0];
  if (!choice?.message) throw new LlmCallFailed('server', 'the model provider answered without a choice');
  const usage = {
    prompt_tokens: Number(body.usage?.prompt_tokens ?? 0),
    completion_tokens: Number(body.usage?.completion_tokens ?? 0),
    total_tokens: Number(body.usage?.total_tokens ?? Number(body.usage?.prompt_tokens ?? 0) + Number(body.usage?.completion_tokens ?? 0)),
  };
  return {
    message: { content: choice.message.content ?? null, tool_calls: choice.message.tool_calls ?? [] },
    finishReason: choice.finish_reason ?? null,
    usage,
  };
}
