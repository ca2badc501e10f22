// Access keys in the admin console, in a real browser: a team owner creates a key for an agent (shown once),
// the agent uses it, the owner rotates and revokes it — and a plain member is offered no team to manage.
import { expect, test } from '@playwright/test';
import { expectCleanConsole, saveScreenshot, signIn, stack, unique } from './fixtures/stack.ts';

const apiAs = (key: string) => fetch(`${stack.apiUrl}/api/me`, { headers: { authorization: `Bearer ${key}` } });

test('a team owner creates a key (shown once), the agent uses it, then the owner rotates and revokes it', async ({ page }) => {
  page.on('dialog', (dialog) => void dialog.accept());
  await signIn(page, `${stack.adminUrl}#keys`, stack.users.alice);
  await expect(page.getByRole('heading', { name: 'Access keys' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'New key for Demo Team' })).toBeVisible();

  const name = unique('summarizer worker');
  await page.getByLabel('Key name').fill(name);
  await page.getByLabel('Agent or integration name').fill('Summarizer');
  await page.getByLabel('Bundle').selectOption('agent');
  await page.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByLabel('Key', { exact: true });
  await expect(shown).toHaveValue(/^mdao_test_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}$/);
  const key = await shown.inputValue();
  const row = page.locator('tr').filter({ hasText: name });
  await expect(row).toContainText('Summarizer (agent)');
  await expect(row).toContainText('live');
  await saveScreenshot(page, 'admin-access-key-created');

  // the agent acts with it
  expect((await apiAs(key)).status).toBe(200);
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await expect(shown).toHaveCount(0);

  await row.getByRole('button', { name: `Rotate ${name}` }).click();
  await expect(page.getByRole('region', { name: 'Copy the key now: it is shown once' })).toContainText('was rotated');
  const rotated = await page.getByLabel('Key', { exact: true }).inputValue();
  expect(rotated).not.toBe(key);
  expect((await apiAs(rotated)).status).toBe(200);
  expect((await apiAs(key)).status).toBe(200); // the old key works on for the overlap (a day)

  const rows = page.locator('tr').filter({ hasText: name });
  await expect(rows).toHaveCount(2);
  for (const revokedSoFar of [1, 2]) {
    await rows
      .filter({ hasText: 'live' })
      .first()
      .getByRole('button', { name: `Revoke ${name}` })
      .click();
    await expect(rows.filter({ hasText: 'revoked' })).toHaveCount(revokedSoFar); // the list refreshed
  }
  await expect.poll(async () => (await apiAs(rotated)).status, { timeout: 10_000 }).toBe(401);
  await saveScreenshot(page, 'admin-access-keys-revoked');
  expectCleanConsole(page);
});

test('a plain member manages no team’s keys', async ({ page }) => {
  await signIn(page, `${stack.adminUrl}#keys`, stack.users.bob);
  await expect(page.getByText('You manage the keys of no team')).toBeVisible();
  await saveScreenshot(page, 'admin-access-keys-member');
  expectCleanConsole(page);
});
