// The LLM agent: a chat-completions model (any OpenAI-compatible endpoint, workers/agents/llm/) with two tools.
// read_recent_messages reads the channel through the gateway; send_channel_message posts a message of its own
// and needs a person's approval first, so the run settles requires_action with the message it wants to send and
// resumes after the decision. The model's final answer is posted as the agent's reply. Every model call is a
// step with its token usage; the run's usage is the sum.
import type { AgentKind, RunForWorker, RunOutcome, RunSteps } from '../agent-kind.ts';
import { RunLost } from '../agent-kind.ts';
import type { GatewayClient } from '../gateway-client.ts';
import {
  createChatCompletion,
  LlmCallFailed,
  type ChatCompletionsSettings,
  type ChatMessage,
  type ToolCall,
  type ToolDefinition,
} from '../llm/chat-completions.ts';

const MAX_TURNS = 6;
const MAX_TEXT = 2000;
const MAX_REPLY_CHARACTERS = 4000;

export const LLM_TOOLS: ToolDefinition[] = [
  {
    type: 'function',
    function: {
      name: 'read_recent_messages',
      description: 'Reads the newest messages of the channel you were asked in (author ids and text), newest first.',
      parameters: {
        type: 'object',
        properties: { limit: { type: 'integer', minimum: 1, maximum: 50, description: 'How many messages (default 20)' } },
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'send_channel_message',
      description:
        'Posts a separate message in a channel of the team. A person must approve it before it is sent; you are told whether it was.',
      parameters: {
        type: 'object',
        properties: {
          body: { type: 'string', description: 'The message text' },
          channel_id: { type: 'string', description: 'The channel (default: the one you were asked in)' },
        },
        required: ['body'],
      },
    },
  },
];

/** What a run waiting for approval keeps (in pending_action, then input.decision): enough to resume the conversation. */
interface PendingToolAction {
  tool: 'send_channel_message';
  channel_id: string;
  body: string;
  tool_call_id: string;
  prompt: string;
  usage: Usage;
}
// a type, not an interface: it must fit Record<string, unknown> (a run's usage column)
type Usage = {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  llm_calls: number;
};
interface Message {
  id: string;
  author_id: string;
  body: string | null;
}

const systemPrompt = (run: RunForWorker) =>
  typeof run.agent_config.system_prompt === 'string'
    ? run.agent_config.system_prompt
    : `You are @${run.agent_name}, an agent in a team's channel on DAARION.city. Answer briefly and plainly. ` +
      'Read the channel with read_recent_messages when you need its context. Your final answer is posted as your reply; ' +
      'use send_channel_message only for a separate message (a person approves it first).';

const parseArguments = (call: ToolCall): Record<string, unknown> | null => {
  try {
    const parsed: unknown = JSON.parse(call.function.arguments || '{}');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

/** What the person asked: the run's prompt, else the message that mentioned the agent, else a catch-up. */
async function promptOf(run: RunForWorker, gateway: GatewayClient): Promise<string> {
  if (typeof run.input.prompt === 'string' && run.input.prompt.trim()) return run.input.prompt.slice(0, MAX_TEXT);
  if (typeof run.input.message_id === 'string') {
    const page = await gateway.request<{ items: Message[] }>('GET', `/messages?channel_id=${run.channel_id}&limit=50`);
    const asked = page.items.find((m) => m.id === run.input.message_id)?.body;
    if (asked) return asked.slice(0, MAX_TEXT);
  }
  return 'Catch me up on this channel.';
}

export function createLlmAgent(settings: ChatCompletionsSettings | undefined): AgentKind {
  return {
    async execute(run, gateway, steps, signal): Promise<RunOutcome> {
      if (!settings) {
        return {
          status: 'failed',
          error: {
            code: 'llm_not_configured',
            message: 'No model endpoint is configured for llm agents: set LLM_BASE_URL and LLM_MODEL on the agent workers.',
          },
        };
      }
      if (!run.channel_id) {
        return { status: 'failed', error: { code: 'channel_required', message: 'The LLM agent needs a channel to read and reply in.' } };
      }
      const usage: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, llm_calls: 0 };
      const decision = run.input.decision as { approved: boolean; action: PendingToolAction } | undefined;
      let prompt: string;
      const messages: ChatMessage[] = [{ role: 'system', content: systemPrompt(run) }];
      if (decision) {
        // resume: the conversation up to the tool call that waited, and the decision as the tool's result
        const action = decision.action;
        prompt = action.prompt;
        for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens', 'llm_calls'] as const)
          usage[key] += action.usage?.[key] ?? 0;
        const call: ToolCall = {
          id: action.tool_call_id,
          type: 'function',
          function: { name: action.tool, arguments: JSON.stringify({ channel_id: action.channel_id, body: action.body }) },
        };
        messages.push({ role: 'user', content: prompt }, { role: 'assistant', content: null, tool_calls: [call] });
        const result = decision.approved
          ? await sendApprovedMessage(action, gateway, steps, signal)
          : { sent: false, reason: 'a person rejected this message' };
        if ('failed' in result) return { ...result.failed, usage };
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
      } else {
        prompt = await promptOf(run, gateway);
        messages.push({ role: 'user', content: prompt });
      }

      for (let turn = 0; turn < MAX_TURNS; turn += 1) {
        if (signal.aborted) throw new RunLost('cancelled between model calls');
        let completion;
        try {
          completion = await createChatCompletion(settings, { messages, tools: LLM_TOOLS }, signal);
        } catch (error) {
          if (error instanceof LlmCallFailed) {
            await steps.record('llm_call', 'failed', { turn, code: error.code, status: error.status ?? null });
            error.usage = { ...usage };
          }
          throw error;
        }
        usage.prompt_tokens += completion.usage.prompt_tokens;
        usage.completion_tokens += completion.usage.completion_tokens;
        usage.total_tokens += completion.usage.total_tokens;
        usage.llm_calls += 1;
        const calls = completion.message.tool_calls;
        await steps.record('llm_call', 'succeeded', {
          turn,
          ...completion.usage,
          finish_reason: completion.finishReason,
          tool_calls: calls.map((c) => c.function.name),
        });
        if (calls.length === 0) return postReply(run, completion.message.content ?? '', usage, gateway, steps, signal);

        messages.push({ role: 'assistant', content: completion.message.content, tool_calls: calls });
        for (const call of calls) {
          const args = parseArguments(call);
          if (call.function.name === 'send_channel_message' && args && typeof args.body === 'string' && args.body.trim()) {
            await steps.record('tool_call', 'succeeded', { tool: call.function.name, waits_for: 'approval' });
            const action: PendingToolAction = {
              tool: 'send_channel_message',
              channel_id: typeof args.channel_id === 'string' ? args.channel_id : run.channel_id,
              body: args.body.slice(0, MAX_TEXT),
              tool_call_id: call.id,
              prompt,
              usage: { ...usage },
            };
            return { status: 'requires_action', action: { ...action }, usage };
          }
          const result = await runReadTool(call, args, run, gateway);
          await steps.record('tool_call', 'error' in result ? 'failed' : 'succeeded', {
            tool: call.function.name,
            ...('error' in result ? { error: result.error } : { messages: (result.messages as unknown[]).length }),
          });
          messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
        }
      }
      return {
        status: 'failed',
        error: { code: 'llm_too_many_turns', message: `The model kept calling tools for ${MAX_TURNS} turns without answering.` },
        usage,
      };
    },
  };
}

/** The tools that act at once: reading the channel (and an explanation for anything the model got wrong). */
async function runReadTool(
  call: ToolCall,
  args: Record<string, unknown> | null,
  run: RunForWorker,
  gateway: GatewayClient,
): Promise<Record<string, unknown>> {
  if (!args) return { error: 'the arguments are not a JSON object' };
  if (call.function.name === 'read_recent_messages') {
    const limit = typeof args.limit === 'number' && Number.isInteger(args.limit) ? Math.min(50, Math.max(1, args.limit)) : 20;
    const page = await gateway.request<{ items: Message[] }>('GET', `/messages?channel_id=${run.channel_id}&limit=${limit}`);
    return { messages: page.items.filter((m) => m.body !== null).map((m) => ({ author_id: m.author_id, body: m.body })) };
  }
  if (call.function.name === 'send_channel_message') return { error: 'body must be a non-empty string' };
  return { error: `there is no tool named ${call.function.name}` };
}

/** Sends the message a person approved, at most once (a takeover that finds it started cannot know: it fails). */
async function sendApprovedMessage(
  action: PendingToolAction,
  gateway: GatewayClient,
  steps: RunSteps,
  signal: AbortSignal,
): Promise<{ sent: true; message_id: string } | { failed: Extract<RunOutcome, { status: 'failed' }> }> {
  if (await steps.unfinishedFromEarlierAttempt('tool_call')) {
    return {
      failed: {
        status: 'failed',
        error: {
          code: 'tool_state_unknown',
          message: 'An earlier attempt may have sent the approved message before its worker stopped; not sending twice.',
        },
      },
    };
  }
  if (signal.aborted) throw new RunLost('cancelled before sending');
  const finish = await steps.start('tool_call', { tool: action.tool, channel_id: action.channel_id, characters: action.body.length });
  const posted = await gateway.request<{ id: string }>('POST', '/messages', { channel_id: action.channel_id, body: action.body });
  await finish('succeeded', { message_id: posted.id });
  return { sent: true, message_id: posted.id };
}

async function postReply(
  run: RunForWorker,
  content: string,
  usage: Usage,
  gateway: GatewayClient,
  steps: RunSteps,
  signal: AbortSignal,
): Promise<RunOutcome> {
  const reply = (content.trim() || 'I have no answer to that.').slice(0, MAX_REPLY_CHARACTERS);
  if (await steps.unfinishedFromEarlierAttempt('post_reply')) {
    return {
      status: 'failed',
      error: {
        code: 'reply_state_unknown',
        message: 'An earlier attempt may have posted the reply before its worker stopped; not posting twice.',
      },
      usage,
    };
  }
  if (signal.aborted) throw new RunLost('cancelled before posting');
  const finish = await steps.start('post_reply', { channel_id: run.channel_id, characters: reply.length });
  const posted = await gateway.request<{ id: string }>('POST', '/messages', { channel_id: run.channel_id, body: reply });
  await finish('succeeded', { message_id: posted.id });
  return { status: 'completed', output: { reply, message_id: posted.id }, usage: { ...usage } };
}
