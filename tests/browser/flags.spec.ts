// Feature flags in real browsers: a platform admin rolls the city's announcement out to everyone in the admin
// console, and Bob's open city shows the banner without a reload; the kill switch takes it away again.
import { expect, test } from '@playwright/test';
import { expectCleanConsole, saveScreenshot, signIn, signInToCity, stack } from './fixtures/stack.ts';

test('a flag flipped in the admin console changes the open city without a reload', async ({ browser }) => {
  // two signed-in apps, two saved versions and two 2-second polls: more than the default on a loaded machine
  test.setTimeout(90_000);
  const admin = await (await browser.newContext()).newPage();
  const city = await (await browser.newContext()).newPage();
  await signInToCity(city, stack.users.bob);
  const banner = city.getByRole('status').filter({ hasText: 'Scheduled maintenance' });
  await expect(banner).toHaveCount(0);

  await signIn(admin, `${stack.adminUrl}#flags`, stack.users.ops);
  const row = admin.locator('tr[data-flag="city.announcement"]');
  await expect(row).toBeVisible();
  const enabled = admin.locator('tr[data-flag="city.announcement"]').getByRole('checkbox', { name: 'city.announcement on' });
  const version = row.locator('td').last();
  const before = Number(await version.innerText());
  await row.getByLabel('Rollout of city.announcement in percent').fill('100');
  await row.getByRole('button', { name: 'Set rollout' }).click();
  // the row is drawn again from the saved flag: act on it once it shows the new version
  await expect(version).toHaveText(String(before + 1));
  await expect(row.getByLabel('Rollout of city.announcement in percent')).toHaveValue('100');
  // the box shows the stored state: it turns on once the change is saved and read back
  await enabled.click();
  await expect(enabled).toBeChecked();
  await saveScreenshot(admin, 'admin-flags');

  // the city polls its flags every 2 s: the banner arrives without navigation
  const url = city.url();
  await expect(banner).toBeVisible({ timeout: 10_000 });
  expect(city.url()).toBe(url);
  await saveScreenshot(city, 'city-flag-announcement');

  // the kill switch
  await expect(version).toHaveText(String(before + 2));
  await enabled.click();
  await expect(enabled).not.toBeChecked();
  await expect(banner).toHaveCount(0, { timeout: 10_000 });
  expectCleanConsole(admin, city);
});
