// The admin console in a real browser: a platform admin watches the outbox backlog grow while the relay is
// paused and drain once it resumes, the event reaching the stream's durable consumer; everyone else is refused.
import { expect, test, type Page } from '@playwright/test';
import { seedIds } from '../harness/database.ts';
import { apiSession, expectCleanConsole, saveScreenshot, signIn, stack, unique } from './fixtures/stack.ts';
import { WATCHED_CONSUMER } from './fixtures/users.ts';

const consumerPending = (page: Page) => page.locator(`tr[data-consumer="${WATCHED_CONSUMER}"] td`).first();
const componentStatus = (page: Page, name: string) => page.locator(`tr[data-component="${name}"] .badge`);

test('the backlog drains after a message', async ({ page }) => {
  const alice = await apiSession(stack.users.alice);
  const channelName = unique('audited');
  await alice.call('POST', '/api/channels', { team_id: seedIds.demoTeam, name: channelName });

  await signIn(page, stack.adminUrl, stack.users.ops);
  for (const name of ['gateway', 'database', 'migrations', 'nats', 'outbox relay'])
    await expect(componentStatus(page, name)).toHaveText('ok');
  await expect(page.getByRole('table').filter({ hasText: 'When' })).toContainText(channelName);
  const backlog = page.getByTestId('outbox-backlog');
  await expect(backlog).toHaveText('0');
  const pendingBefore = Number(await consumerPending(page).innerText());

  process.kill(stack.relayPid, 'SIGSTOP');
  try {
    await alice.call('POST', '/api/messages', { channel_id: seedIds.generalChannel, body: unique('While the relay sleeps') });
    await expect(backlog).toHaveText('1');
    await expect(page.getByTestId('outbox-oldest-age')).not.toHaveText('—');
    await saveScreenshot(page, 'admin-backlog-waiting');
  } finally {
    process.kill(stack.relayPid, 'SIGCONT');
  }
  await expect(backlog).toHaveText('0');
  await expect(page.getByTestId('outbox-oldest-age')).toHaveText('—');
  await expect(consumerPending(page)).toHaveText(String(pendingBefore + 1));
  await saveScreenshot(page, 'admin-backlog-drained');
  expectCleanConsole(page);
});

test('an account that is not a platform admin is refused', async ({ page }) => {
  await signIn(page, stack.adminUrl, stack.users.bob);
  await expect(page.getByRole('alert')).toContainText(`${stack.users.bob} is not a platform admin`);
});
