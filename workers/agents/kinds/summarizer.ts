// The built-in summarizer: reads the channel's recent messages through the gateway, summarises them
// extractively and posts the summary in the channel as itself. With config {"require_approval": true} it asks
// a person to approve the reply first (the run goes to requires_action and resumes after the decision).
import type { AgentKind, RunOutcome } from '../agent-kind.ts';
import { RunLost } from '../agent-kind.ts';
import { summarizeExtractively } from './extractive-summary.ts';

interface Message {
  id: string;
  author_id: string;
  body: string | null;
}
interface Decision {
  approved: boolean;
  action: { body?: string };
}

const DEFAULT_MESSAGES = 20;
const MAX_REPLY_CHARACTERS = 4000;

const messagesWanted = (value: unknown): number =>
  typeof value === 'number' && Number.isInteger(value) ? Math.min(100, Math.max(1, value)) : DEFAULT_MESSAGES;

export const summarizer: AgentKind = {
  async execute(run, gateway, steps, signal): Promise<RunOutcome> {
    if (!run.channel_id) {
      return { status: 'failed', error: { code: 'channel_required', message: 'The summarizer needs a channel to read and reply in.' } };
    }
    const decision = run.input.decision as Decision | undefined;
    let reply: string;
    let read = 0;
    if (decision) {
      if (!decision.approved) return { status: 'completed', output: { posted: false, reason: 'the reply was rejected' }, usage: {} };
      reply = String(decision.action.body ?? '');
    } else {
      const wanted = messagesWanted(run.input.messages ?? run.agent_config.messages);
      const page = await gateway.request<{ items: Message[] }>('GET', `/messages?channel_id=${run.channel_id}&limit=${wanted}`);
      // newest first from the API; the agent's own replies and the message that called it are left out
      const bodies = page.items
        .filter((m) => m.body !== null && m.author_id !== run.principal_id && m.id !== run.input.message_id)
        .reverse()
        .map((m) => m.body!.replaceAll(/@[a-z][a-z0-9_-]+/gi, '').trim());
      read = bodies.length;
      await steps.record('read_messages', 'succeeded', { requested: wanted, read });
      const sentences = summarizeExtractively(bodies);
      reply = sentences.length
        ? `Summary of the last ${read} messages:\n${sentences.map((s) => `• ${s}`).join('\n')}`.slice(0, MAX_REPLY_CHARACTERS)
        : 'Nothing to summarise yet in this channel.';
      await steps.record('summarize', 'succeeded', { sentences: sentences.length, characters: reply.length });
      if (run.agent_config.require_approval === true) {
        return {
          status: 'requires_action',
          action: { tool: 'post_reply', channel_id: run.channel_id, body: reply },
          usage: { messages_read: read },
        };
      }
    }
    // a takeover after a crash between "started" and "succeeded" cannot know whether the reply went out
    if (await steps.unfinishedFromEarlierAttempt('post_reply')) {
      return {
        status: 'failed',
        error: {
          code: 'reply_state_unknown',
          message: 'An earlier attempt may have posted the reply before its worker stopped; not posting twice.',
        },
      };
    }
    if (signal.aborted) throw new RunLost('cancelled before posting');
    const finish = await steps.start('post_reply', { channel_id: run.channel_id, characters: reply.length });
    const posted = await gateway.request<{ id: string }>('POST', '/messages', { channel_id: run.channel_id, body: reply });
    await finish('succeeded', { message_id: posted.id });
    return { status: 'completed', output: { reply, message_id: posted.id }, usage: { messages_read: read } };
  },
};
