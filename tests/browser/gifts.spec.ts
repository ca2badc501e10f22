// The city's Gift Fabric, in a real browser: Carol (owner of Other Team, so the demo team's wallet tests are
// untouched) gifts credits to Dave from the wallet page; the gift shows as sent, and once the gift-fabric
// consumer (started here on the browser stack, as agents.spec.ts starts its worker) applies it, as delivered —
// her credits go down by the gift. A gift over what she has left is refused at once with the API's sentence.
import { expect, test } from '@playwright/test';
import path from 'node:path';
import { SupervisedProcess } from '../../scripts/local-stack/processes.ts';
import { apiSession, expectCleanConsole, saveScreenshot, signInToCity, stack, unique } from './fixtures/stack.ts';
import { otherTeam } from './fixtures/users.ts';

const CAROL = '00000000-0000-4000-8000-00000000ca01';

function startGiftConsumer(): SupervisedProcess {
  const environment = JSON.parse(process.env.BROWSER_SERVICE_ENV ?? '{}') as NodeJS.ProcessEnv;
  return new SupervisedProcess({
    name: 'consumer-gift-fabric',
    program: process.execPath,
    args: ['--import', 'tsx', 'workers/consumers/gift-fabric/main.ts'],
    env: {
      ...environment,
      NATS_CONSUMER_GIFT_FABRIC: unique('gift-fabric'),
      METRICS_PORT: String(20_000 + Math.floor(Math.random() * 40_000)),
    },
    cwd: path.resolve(import.meta.dirname, '../..'),
    logFile: path.resolve(import.meta.dirname, '../../artifacts/browser/consumer-gift-fabric.log'),
    echo: false,
  });
}

test('send a gift to a member and see it delivered in the city', async ({ page }) => {
  const carol = await apiSession(stack.users.carol);
  const balances = async () =>
    (await carol.call<{ items: { account: string; balance: string }[] }>('GET', `/api/teams/${otherTeam.id}/wallet/balances`)).items;
  const held = async () => BigInt((await balances()).find((b) => b.account === `member:${CAROL}`)?.balance ?? '0');
  await carol.call('POST', `/api/teams/${otherTeam.id}/wallet/credits`, { member_id: CAROL, amount: '300' });
  const before = await held();

  const consumer = startGiftConsumer();
  try {
    await signInToCity(page, stack.users.carol);
    await page.getByRole('button', { name: 'Wallet' }).click();
    const wallet = page.getByRole('region', { name: 'Wallet' });
    const gifts = wallet.getByRole('region', { name: 'Gifts' });

    const memo = unique('thanks for the seedlings');
    await gifts.getByLabel('Gift to').selectOption({ label: 'Dave' });
    await gifts.getByLabel('Credits to give').fill('40');
    await gifts.getByLabel('Message').fill(memo);
    await gifts.getByRole('button', { name: 'Send gift' }).click();
    const mine = gifts.getByRole('listitem').filter({ hasText: memo });
    await expect(mine).toContainText('40 from me to Dave');
    // the feed is polled while a gift is on its way: the consumer's delivery shows without a reload
    await expect(mine).toContainText('Delivered', { timeout: 30_000 });
    await expect(wallet).toContainText(`My RINGK credits: ${before - 40n}`);
    await saveScreenshot(page, 'city-gifts');
    expectCleanConsole(page);

    // more than she has left: refused at once, nothing recorded (the browser logs the 422 it gets, as it should)
    await gifts.getByLabel('Gift to').selectOption({ label: 'Dave' });
    await gifts.getByLabel('Credits to give').fill(String(before));
    await gifts.getByRole('button', { name: 'Send gift' }).click();
    await expect(wallet.getByRole('alert')).toContainText(/The gift was not sent\..*fewer available credits/);
    expect(await held()).toBe(before - 40n);
  } finally {
    await consumer.stop();
  }
});
