// Checklist item "agent run": the built-in summarizer answers in a channel. Registers the smoke team's agent
// once (smoke-summarizer), opens a channel, posts a message, starts a run there, waits for `completed` and finds
// the agent's reply in the channel; archives the channel. Needs a running agent worker (workers/agents) and relay.
import { expectStatus, StepFailure, type SmokeClient } from '../client.ts';
import type { ChecklistItem } from './index.ts';

const AGENT_NAME = 'smoke-summarizer';
const RUN_DEADLINE_MS = 60_000;
const POLL_MS = 500;

interface Run {
  id: string;
  status: string;
  error: { code: string; message: string } | null;
  output: { message_id?: string } | null;
}

async function smokeAgentId(client: SmokeClient, api: string, teamId: string): Promise<string> {
  const listed = expectStatus(await client.request('GET', `${api}/agents?team_id=${teamId}`), 200, 'GET /agents');
  const existing = (listed.items as { id: string; name: string; enabled: boolean }[]).find((agent) => agent.name === AGENT_NAME);
  if (existing) {
    if (!existing.enabled)
      expectStatus(await client.request('PATCH', `${api}/agents/${existing.id}`, { enabled: true }), 200, 'PATCH /agents/{id}');
    return existing.id;
  }
  const body = { team_id: teamId, name: AGENT_NAME, kind: 'summarizer', run_timeout_seconds: 120 };
  return String(expectStatus(await client.request('POST', `${api}/agents`, body), 201, 'POST /agents').id);
}

export const agentRunItem: ChecklistItem = {
  name: 'agent run',
  routePrefix: '/api/agents',
  feature: 'agents',
  describe: (api) =>
    `agent run: POST ${api}/agents (once, ${AGENT_NAME}) → POST ${api}/channels → POST ${api}/messages → ` +
    `POST ${api}/agents/{id}/runs → GET ${api}/agent-runs/{id} until completed → the reply in GET ${api}/messages`,
  async run(client, { api, teamId, stamp }) {
    if (!teamId) throw new StepFailure('no smoke team: the chat steps did not create or find it');
    const agentId = await smokeAgentId(client, api, teamId);
    const channel = expectStatus(
      await client.request('POST', `${api}/channels`, {
        team_id: teamId,
        name: `smoke-agent-${stamp}`,
        topic: 'agent smoke check; archived when it ends',
      }),
      201,
      'POST /channels',
    );
    const channelId = String(channel.id);
    try {
      const said = { channel_id: channelId, body: 'Smoke check: the energy cooperative meets on Thursday to share the solar surplus.' };
      expectStatus(await client.request('POST', `${api}/messages`, said), 201, 'POST /messages');
      const started = expectStatus(
        await client.request('POST', `${api}/agents/${agentId}/runs`, { channel_id: channelId, input: { messages: 5 } }),
        201,
        'POST /agents/{id}/runs',
      );
      const began = performance.now();
      let run = started as unknown as Run;
      while (!['completed', 'failed', 'cancelled', 'expired'].includes(run.status)) {
        if (performance.now() - began > RUN_DEADLINE_MS) {
          throw new StepFailure(
            `run ${run.id} still ${run.status} after ${RUN_DEADLINE_MS / 1000} s: is an agent worker (workers/agents) and the relay running?`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        run = expectStatus(await client.request('GET', `${api}/agent-runs/${started.id}`), 200, 'GET /agent-runs/{id}') as unknown as Run;
      }
      if (run.status !== 'completed')
        throw new StepFailure(`run ${run.id} ended ${run.status}: ${run.error?.code ?? ''} ${run.error?.message ?? ''}`.trim());
      const page = expectStatus(await client.request('GET', `${api}/messages?channel_id=${channelId}&limit=10`), 200, 'GET /messages');
      const reply = (page.items as { id: string; body: string | null }[]).find((message) => message.id === run.output?.message_id);
      if (!reply?.body)
        throw new StepFailure(`run ${run.id} completed but its reply ${run.output?.message_id ?? '(none)'} is not in the channel`);
      return `run ${run.id} completed in ${Math.round(performance.now() - began)} ms; the agent replied "${reply.body.split('\n')[0]}"`;
    } finally {
      await client.request('POST', `${api}/channels/${channelId}/archive`).catch(() => undefined);
    }
  },
};
