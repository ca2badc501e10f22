// The admin console's Embassy page: a platform admin sees the partners, a dead-lettered outbound webhook with
// its attempts and last answer, and redelivers it (pending again, audited). The dead letter is written straight
// into the stack's database: the browser stack runs no Embassy consumer, and the path from an event through
// failing attempts to the dead letter is tested in tests/embassy/outbound.test.ts.
import { expect, test } from '@playwright/test';
import postgres from 'postgres';
import { expectCleanConsole, saveScreenshot, signIn, stack } from './fixtures/stack.ts';

test('a platform admin finds a dead-lettered outbound webhook and redelivers it', async ({ page }) => {
  const sql = postgres(process.env.BROWSER_DATABASE_URL!, { max: 1, onnotice: () => {} });
  const eventId = crypto.randomUUID();
  let deliveryId: string;
  try {
    const [inserted] = await sql<{ id: string }[]>`
      insert into public.embassy_outbound_deliveries (partner, event_id, event_type, payload, status, attempts, last_response_code, last_error)
      values ('greenfood', ${eventId}, 'rwa.inventory_changed', ${sql.json({ type: 'rwa.inventory_changed', data: {} })}, 'dead', 8, 503,
        'answered 503: partner maintenance')
      returning id`;
    deliveryId = inserted!.id;
  } finally {
    await sql.end();
  }

  await signIn(page, `${stack.adminUrl}#embassy`, stack.users.ops);
  await expect(page.getByRole('heading', { name: 'Embassy', level: 2 })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Partners' }).getByRole('row', { name: /GREENFOOD/ })).toBeVisible();
  const outbound = page.getByRole('region', { name: 'Outbound webhooks' });
  await outbound.getByRole('checkbox', { name: 'Dead letters only' }).check();
  const row = outbound.locator(`tr[data-delivery-id="${deliveryId}"]`);
  await expect(row).toContainText('dead letter');
  await expect(row).toContainText('answered 503: partner maintenance');
  await expect(row.getByRole('cell', { name: '8', exact: true })).toBeVisible();
  await saveScreenshot(page, 'admin-embassy-dead-letter');

  await row.getByRole('button', { name: `Redeliver rwa.inventory_changed ${eventId.slice(0, 8)} to greenfood` }).click();
  await expect(outbound.getByRole('status')).toContainText('pending again');
  // with "Dead letters only" on, the redelivered one leaves the list
  await expect(row).toHaveCount(0);
  await outbound.getByRole('checkbox', { name: 'Dead letters only' }).uncheck();
  await expect(outbound.locator(`tr[data-delivery-id="${deliveryId}"]`)).toContainText('pending');
  expectCleanConsole(page);
});
