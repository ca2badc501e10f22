// Payouts in the admin console, in a real browser: a platform admin sees the stuck payout with its last error,
// cancels it (the reason goes to the audit log), and requests a failed one again as a new payout.
import { expect, test } from '@playwright/test';
import postgres from 'postgres';
import { seedIds } from '../harness/database.ts';
import { expectCleanConsole, saveScreenshot, signIn, stack, unique } from './fixtures/stack.ts';

const TOKEN = '0x5fbdb2315678afecb367f032d93f642f64180aa3';

test('a platform admin finds a stuck payout by its error, cancels it and retries a failed one, audited', async ({ page }) => {
  const stuckError = unique('chain unreachable: ECONNREFUSED');
  const failedError = unique('the transfer would revert');
  const sql = postgres(process.env.BROWSER_DATABASE_URL!, { max: 1, onnotice: () => {} });
  const ids = { stuck: '', failed: '' };
  try {
    const insert = async (key: string) =>
      (
        await sql<{ id: string }[]>`
        insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
        values (${seedIds.demoTeam}, ${seedIds.bob}, 31337, ${TOKEN}, ${`0x${'d'.repeat(40)}`}, 3, ${key}, ${'c'.repeat(64)})
        returning id`
      )[0]!.id;
    ids.stuck = await insert(unique('stuck'));
    await sql`update public.payouts set status = 'approved' where id = ${ids.stuck}`;
    await sql`update public.payouts set last_error = ${stuckError} where id = ${ids.stuck}`;
    ids.failed = await insert(unique('failed'));
    await sql`update public.payouts set status = 'approved' where id = ${ids.failed}`;
    await sql`update public.payouts set status = 'failed', last_error = ${failedError} where id = ${ids.failed}`;
  } finally {
    await sql.end();
  }

  await signIn(page, stack.adminUrl, stack.users.ops);
  await page.getByRole('link', { name: 'Payouts' }).click();
  const section = page.getByRole('region', { name: 'Payouts' });
  const stuckRow = section.getByRole('row').filter({ hasText: stuckError });
  await expect(stuckRow).toContainText('approved (stuck)');
  await saveScreenshot(page, 'wallet-admin-payouts');

  page.once('dialog', (dialog) => void dialog.accept('wrong recipient (browser test)'));
  await stuckRow.getByRole('button', { name: 'Cancel' }).click();
  await expect(section.getByRole('status')).toContainText('cancelled');
  await expect(section.getByRole('row').filter({ hasText: stuckError })).toHaveCount(0);

  await section.getByLabel('Show').selectOption('failed');
  const failedRow = section.getByRole('row').filter({ hasText: failedError });
  page.once('dialog', (dialog) => void dialog.accept('treasury topped up (browser test)'));
  await failedRow.getByRole('button', { name: 'Retry' }).click();
  await expect(section.getByRole('status')).toContainText('Requested again');

  const check = postgres(process.env.BROWSER_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    const audit = await check<{ action: string; target_id: string }[]>`
      select action, target_id from public.audit_log where target_id in (${ids.stuck}, ${ids.failed}) order by id`;
    expect(audit).toEqual([
      { action: 'payout.cancelled_by_admin', target_id: ids.stuck },
      { action: 'payout.retried_by_admin', target_id: ids.failed },
    ]);
  } finally {
    await check.end();
  }
  expectCleanConsole(page);
});
