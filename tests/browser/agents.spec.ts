// Agent runs in the admin console, in a real browser: a team owner sees the team's recent runs with their
// status, and narrows them to failures with their error codes. The runs are made through the API (no agent
// worker runs in the browser stack, so they stay queued, or end as the API leaves them).
import { expect, test } from '@playwright/test';
import { apiSession, expectCleanConsole, saveScreenshot, signIn, stack, unique } from './fixtures/stack.ts';

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
