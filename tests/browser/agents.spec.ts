// Agents in a real browser. The admin console: a team owner sees the team's recent runs with their status, and
// narrows them to failures (runs made through the API; no agent worker runs in the shared browser stack, so they
// stay queued, or end as the API leaves them). The city: a member mentions an agent in a channel and follows the
// run to the agent's reply, with an agent worker this test starts for itself.
import { expect, test } from '@playwright/test';
import path from 'node:path';
import { SupervisedProcess } from '../../scripts/local-stack/processes.ts';
import { apiSession, expectAccessible, expectCleanConsole, saveScreenshot, signIn, signInToCity, stack, unique } from './fixtures/stack.ts';

const DEMO_TEAM = '00000000-0000-4000-8000-0000000d3a00';

test('a team owner sees recent agent runs and their failures', async ({ page }) => {
  const alice = await apiSession(stack.users.alice);
  const name = unique('digest')
    .toLowerCase()
    .replaceAll(/[^a-z0-9-]/g, '-')
    .slice(0, 40);
  const agent = await alice.call<{ id: string }>('POST', '/api/agents', { team_id: DEMO_TEAM, name, kind: 'summarizer' });
  const queued = await alice.call<{ id: string }>('POST', `/api/agents/${agent.id}/runs`, { input: { messages: 5 } });
  const cancelled = await alice.call<{ id: string }>('POST', `/api/agents/${agent.id}/runs`, { input: { messages: 3 } });
  await alice.call('POST', `/api/agent-runs/${cancelled.id}/cancel`);

  await signIn(page, `${stack.adminUrl}#runs`, stack.users.alice);
  await expect(page.getByRole('heading', { name: 'Agent runs' })).toBeVisible();
  await expect(page.locator(`tr[data-run-id="${queued.id}"]`)).toContainText('queued');
  await expect(page.locator(`tr[data-run-id="${cancelled.id}"]`)).toContainText('cancelled: cancelled by');
  await expect(page.locator(`tr[data-run-id="${queued.id}"]`)).toContainText(`@${name}`);
  await saveScreenshot(page, 'admin-agent-runs');

  await page.getByLabel('Failures only').check();
  await expect(page.locator(`tr[data-run-id="${queued.id}"]`)).toHaveCount(0);
  expectCleanConsole(page);
});

test('a member mentions the agent in a channel and follows its run live to the reply; approves a pending one', async ({ page }) => {
  const worker = startAgentWorker();
  try {
    const alice = await apiSession(stack.users.alice);
    // the built-in agent under its usual handle, and one that asks before it posts (requires_action)
    await alice.call('POST', '/api/agents', { team_id: DEMO_TEAM, name: 'summarizer', kind: 'summarizer', config: { messages: 10 } });
    await alice.call('POST', '/api/agents', {
      team_id: DEMO_TEAM,
      name: 'reviewer',
      kind: 'summarizer',
      config: { messages: 10, require_approval: true },
    });
    const channelName = unique('harvest').toLowerCase();
    const channel = await alice.call<{ id: string }>('POST', '/api/channels', { team_id: DEMO_TEAM, name: channelName });
    await alice.call('POST', '/api/messages', {
      channel_id: channel.id,
      body: 'The solar cooperative shares its surplus power with the school on Thursdays.',
    });

    await signInToCity(page, stack.users.bob);
    await page.getByRole('button', { name: `# ${channelName}` }).click();
    const composer = page.getByRole('textbox', { name: `Message #${channelName}` });
    await composer.fill('@summarizer what did we agree about the solar surplus?');
    await composer.press('Enter');

    // the run shows up by itself (agent_run.queued), then settles live (agent_run.completed)
    const runs = page.getByRole('list', { name: 'Recent runs' });
    const run = runs.locator('li', { hasText: '@summarizer' }).first();
    await expect(run).toBeVisible();
    await expect(run).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
    const log = page.getByRole('log', { name: `Messages in #${channelName}` });
    const reply = log.locator('li.message', { hasText: '@summarizer (agent)' });
    await expect(reply).toContainText('Summary of the last');
    await expect(reply).toContainText('solar cooperative shares its surplus');
    await saveScreenshot(page, 'city-agent-run');

    // a run that waits for a person: started from the panel, approved there, and its reply posted
    await page.getByRole('button', { name: `Run @reviewer in #${channelName}` }).click();
    const waiting = runs.locator('li', { hasText: '@reviewer' }).first();
    await expect(waiting).toHaveAttribute('data-status', 'requires_action', { timeout: 30_000 });
    await expect(waiting).toContainText('Wants to post_reply');
    await waiting.getByRole('button', { name: 'Approve' }).click();
    await expect(waiting).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
    await expect(log.locator('li.message', { hasText: '@reviewer (agent)' })).toContainText('Summary of the last');
    await expectAccessible(page);
    expectCleanConsole(page);
  } finally {
    await worker.stop();
  }
});

/** An agent worker on the browser stack, for the test that needs runs executed (the admin test above needs none). */
function startAgentWorker(): SupervisedProcess {
  const environment = JSON.parse(process.env.BROWSER_SERVICE_ENV ?? '{}') as NodeJS.ProcessEnv;
  return new SupervisedProcess({
    name: 'agents',
    program: process.execPath,
    args: ['--import', 'tsx', 'workers/agents/main.ts'],
    env: {
      ...environment,
      AGENT_GATEWAY_URL: stack.apiUrl,
      NATS_CONSUMER_AGENTS: unique('agents'),
      METRICS_PORT: String(20_000 + Math.floor(Math.random() * 40_000)),
    },
    cwd: path.resolve(import.meta.dirname, '../..'),
    logFile: path.resolve(import.meta.dirname, '../../artifacts/browser/agents.log'),
    echo: false,
  });
}
