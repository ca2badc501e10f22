// The city's "Real-world assets" section shows the signed-in team's RWA inventory exactly as the API holds it
// (exact decimals, units), and nothing of another team's. Inventory rows are written straight into the
// stack's database here: the browser stack runs no Embassy consumer, and the path from a partner webhook to
// these rows is tested in tests/embassy/inventory-consumer.test.ts.
import { expect, test } from '@playwright/test';
import postgres from 'postgres';
import { seedIds } from '../harness/database.ts';
import { expectCleanConsole, saveScreenshot, signInToCity, stack } from './fixtures/stack.ts';
import { otherTeam } from './fixtures/users.ts';

test("the city shows the team's real-world assets, and none of another team's", async ({ page }) => {
  const sql = postgres(process.env.BROWSER_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    await sql`
      insert into public.rwa_inventory (team_id, partner, asset_kind, asset_ref, unit, quantity, location) values
        (${seedIds.demoTeam}, 'energy-union', 'energy', 'roof-meter-1', 'kWh', 1250.125, 'Kyiv'),
        (${seedIds.demoTeam}, 'water-union', 'water', 'well-7', 'm3', 3.25, null),
        (${otherTeam.id}, 'greenfood', 'food_lot', 'lot-secret', 'kg', 40, 'Lviv')
      on conflict do nothing`;
  } finally {
    await sql.end();
  }
  await signInToCity(page, stack.users.alice);
  const section = page.getByRole('region', { name: 'Real-world assets' });
  await expect(section.getByRole('row', { name: /Energy roof-meter-1 \(Kyiv\) energy-union 1250\.125 kWh/ })).toBeVisible();
  await expect(section.getByRole('row', { name: /Water well-7 water-union 3\.25 m3/ })).toBeVisible();
  await expect(section).not.toContainText('lot-secret');
  await saveScreenshot(page, 'embassy-rwa-inventory');
  expectCleanConsole(page);
});
