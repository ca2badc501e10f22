// The city's wallet, in a real browser: Alice (the demo team's owner) sees the treasury balance, requests a
// payout, approves Bob's (never her own: the button is not offered and the database would refuse), stakes
// credits and withdraws the stake once its lock is over. The token row is written straight into the stack's
// database: the browser stack runs no chain (tests/wallet/payouts-chain.test.ts pays on one).
import { expect, test } from '@playwright/test';
import postgres from 'postgres';
import { seedIds } from '../harness/database.ts';
import { apiSession, expectCleanConsole, saveScreenshot, signInToCity, stack, unique } from './fixtures/stack.ts';

const TOKEN = '0x5fbdb2315678afecb367f032d93f642f64180aa3';

test('treasury balance, request and approve payouts, stake and withdraw in the city', async ({ page }) => {
  const bobsMemo = unique('bob-payout');
  const sql = postgres(process.env.BROWSER_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    await sql`
      insert into public.chain_tokens (chain_id, symbol, address, treasury_address, treasury_balance, balance_read_at)
      values (31337, 'RINGK', ${TOKEN}, '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', 987654321000, now())
      on conflict (chain_id, symbol) do update set treasury_balance = excluded.treasury_balance`;
    await sql`
      insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, memo, idempotency_key, request_hash)
      values (${seedIds.demoTeam}, ${seedIds.bob}, 31337, ${TOKEN}, ${`0x${'b'.repeat(40)}`}, 7, ${bobsMemo}, ${bobsMemo},
              ${'e'.repeat(64)})`;
  } finally {
    await sql.end();
  }
  const alice = await apiSession(stack.users.alice);
  await alice.call('POST', `/api/teams/${seedIds.demoTeam}/wallet/credits`, { member_id: seedIds.alice, amount: '500' });

  await signInToCity(page, stack.users.alice);
  await page.getByRole('button', { name: 'Wallet' }).click();
  const wallet = page.getByRole('region', { name: 'Wallet' });
  await expect(wallet.getByRole('row', { name: /RINGK 31337 987654321000/ })).toBeVisible();

  // her own request: cancel is offered, approve is not
  const recipient = `0x${'c'.repeat(40)}`;
  await wallet.getByLabel('Recipient address').fill(recipient);
  await wallet.getByLabel('Amount of RINGK (base units)').fill('25');
  const memo = unique('solar roof');
  await wallet.getByLabel('Memo').fill(memo);
  await wallet.getByRole('button', { name: 'Request payout' }).click();
  const mine = wallet.getByRole('listitem').filter({ hasText: memo });
  await expect(mine).toContainText('Requested (waiting for approval)');
  await expect(mine.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  await expect(mine.getByRole('button', { name: 'Cancel' })).toBeVisible();

  // Bob's request: Alice approves it; with the threshold of one it is approved, ready for the wallet worker
  const bobs = wallet.getByRole('listitem').filter({ hasText: bobsMemo });
  await bobs.getByRole('button', { name: 'Approve' }).click();
  await expect(bobs).toContainText('Approved (being sent) · approvals 1 of 1');

  // stake 20 of her 500 credits, no lock: withdrawable at once
  await expect(wallet).toContainText('My RINGK credits: 500');
  await wallet.getByLabel('Amount to stake').fill('20');
  await wallet.getByRole('button', { name: 'Stake' }).click();
  await expect(wallet).toContainText('My RINGK credits: 480');
  await saveScreenshot(page, 'wallet-city');
  await wallet.getByRole('button', { name: 'Withdraw' }).first().click();
  await expect(wallet).toContainText('My RINGK credits: 500');
  await expect(wallet.getByRole('listitem').filter({ hasText: '20 withdrawn' })).toBeVisible();
  expectCleanConsole(page);
});
