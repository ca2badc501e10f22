// Projects and governance in the city, in a real browser: Alice proposes, she and Bob vote, the governance
// scheduler's step closes and executes it, and the page shows the outcome; a treasury proposal reaches Executed
// with its payout shown; a view picked while the channels still load stays picked; then she moves a task across the board with the keyboard and by dragging. The scheduler's step is run here against the stack's database (the
// browser stack runs no scheduler process; tests/governance/scheduler.test.ts runs two).
import { expect, test } from '@playwright/test';
import postgres from 'postgres';
import { apiSession, expectCleanConsole, saveScreenshot, signInToCity, stack, unique } from './fixtures/stack.ts';

const DEMO_TEAM = '00000000-0000-4000-8000-0000000d3a00';

// each test signs in, runs axe-core and takes full-page screenshots: 46 s measured for the board test at load 16
// on the shared 2-core machine (every step had passed), over the 45 s default
test.describe.configure({ timeout: 90_000 });

/** Runs `work` against the stack's database as its owner (the rights of a worker or the launcher). */
async function asDatabaseOwner(work: (sql: postgres.Sql) => Promise<unknown>): Promise<void> {
  const url = process.env.BROWSER_DATABASE_URL;
  if (!url) throw new Error('BROWSER_DATABASE_URL is not set: run through playwright.config.ts');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await work(sql);
  } finally {
    await sql.end();
  }
}

/** The scheduler's step as the worker takes it, `days` ahead. */
const schedulerStep = (days: number) =>
  asDatabaseOwner((sql) => sql`select * from app.governance_tick(100, now() + make_interval(days => ${days}))`);

test('propose → two members vote → close → executed, shown on the proposals page', async ({ page }) => {
  await signInToCity(page, stack.users.alice);
  await page.getByRole('button', { name: 'Proposals' }).click();
  await expect(page.getByRole('heading', { name: 'Proposals' })).toBeVisible();

  const title = unique('Paint the hall green');
  await page.getByLabel('New proposal').fill(title);
  await page.getByRole('button', { name: 'Propose' }).click();
  const card = page.getByRole('listitem', { name: title });
  await expect(card).toContainText('Active (voting open)');

  await card
    .getByRole('group', { name: `Vote on ${title}` })
    .getByRole('button', { name: 'For' })
    .click();
  await expect(card).toContainText('You voted for.');

  // Bob votes from elsewhere; the tally moves on Alice's page through the live feed
  const bob = await apiSession(stack.users.bob);
  const { items } = await bob.call<{ items: { id: string; title: string }[] }>('GET', `/api/governance/proposals?team_id=${DEMO_TEAM}`);
  const proposal = items.find((item) => item.title === title)!;
  await bob.call('POST', `/api/governance/proposals/${proposal.id}/vote`, { choice: 'for' });
  await expect(card.getByLabel(`Tally of ${title}`)).toContainText('For 2 · Against 0');
  await saveScreenshot(page, 'city-governance-voting');

  await schedulerStep(4); // voting ends: succeeded
  await schedulerStep(4); // executed
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(card).toContainText('Executed');
  await expect(card.getByRole('group', { name: `Vote on ${title}` })).toHaveCount(0);
  await saveScreenshot(page, 'city-governance-executed');
  expectCleanConsole(page);
});

test('a view picked while the team’s channels still load stays picked when they arrive', async ({ page }) => {
  // the channel list is held back until Proposals was clicked: its arrival picks #general, not the main area
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/channels?*', async (route) => {
    await held;
    await route.continue();
  });
  await signInToCity(page, stack.users.alice);
  await page.getByRole('button', { name: 'Proposals' }).click();
  await expect(page.getByRole('heading', { name: 'Proposals' })).toBeVisible();
  release();
  await expect(page.getByRole('navigation', { name: 'Channels of Demo Team' }).getByRole('button', { name: '# general' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Proposals' })).toBeVisible();
  await expect(page.getByRole('heading', { name: '# general' })).toHaveCount(0);
});

test('a treasury proposal that passes is executed as one payout, shown with its status', async ({ page }) => {
  // the Demo Team's treasury on the local chain, as supabase/seed.sql registers it, and RINGK listed there as the launcher does
  await asDatabaseOwner(async (sql) => {
    await sql`insert into public.chain_tokens (chain_id, symbol, address) values
      (31337, 'RINGK', '0x5fbdb2315678afecb367f032d93f642f64180aa3') on conflict do nothing`;
    await sql`insert into public.wallets (team_id, kind, chain_id, address) values
      (${DEMO_TEAM}, 'treasury', 31337, '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266') on conflict do nothing`;
  });
  const title = unique('Pay the roofer');
  const [alice, bob] = await Promise.all([apiSession(stack.users.alice), apiSession(stack.users.bob)]);
  const made = await alice.call<{ id: string }>('POST', '/api/governance/proposals', {
    kind: 'treasury_payout',
    team_id: DEMO_TEAM,
    title,
    action: { recipient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8', amount: '2500000000000000000', asset: 'RINGK' },
  });
  await alice.call('POST', `/api/governance/proposals/${made.id}/vote`, { choice: 'for' });
  await bob.call('POST', `/api/governance/proposals/${made.id}/vote`, { choice: 'for' });
  await schedulerStep(4); // voting ends: succeeded
  await schedulerStep(4); // executed: the payout is recorded, approved by the vote

  await signInToCity(page, stack.users.alice);
  await page.getByRole('button', { name: 'Proposals' }).click();
  const card = page.getByRole('listitem', { name: title });
  await expect(card.locator('.proposal-state')).toHaveText('Executed');
  await expect(card.getByLabel(`Payout of ${title}`)).toHaveText('Payout approved, waiting to be sent');
  await card.scrollIntoViewIfNeeded();
  await saveScreenshot(page, 'city-governance-treasury-executed'); // checks the page with axe-core first
  expectCleanConsole(page);
});

test('moves a task across the projects board with the keyboard and by dragging', async ({ page }) => {
  await signInToCity(page, stack.users.alice);
  await page.getByRole('button', { name: 'Projects board' }).click();
  await page.getByLabel('New project name').fill(unique('Roofs'));
  await page.getByRole('button', { name: 'Create project' }).click();

  const task = unique('Fix block 4');
  await page.getByLabel('New task title').fill(task);
  await page.getByRole('button', { name: 'Add task' }).click();
  const todo = page.getByRole('region', { name: /^To do/ });
  await expect(todo.getByRole('listitem', { name: task })).toBeVisible();

  // keyboard: focus the card's move button and press Enter
  await page.getByRole('button', { name: `Move ${task} to In progress` }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('region', { name: /^In progress/ }).getByRole('listitem', { name: task })).toBeVisible();

  // drag to Review, holding the card by its title: its middle may be one of its move buttons (where the columns
  // are narrow), and a drag never starts on a button. The move is done when its PATCH has answered.
  const moved = page.waitForResponse((response) => response.request().method() === 'PATCH' && response.url().includes('/api/tasks/'));
  await page
    .getByRole('region', { name: /^In progress/ })
    .getByRole('listitem', { name: task })
    .getByText(task, { exact: true })
    .dragTo(page.getByRole('region', { name: /^Review/ }));
  expect((await moved).status()).toBe(200);
  await expect(page.getByRole('region', { name: /^Review/ }).getByRole('listitem', { name: task })).toBeVisible();
  await saveScreenshot(page, 'city-projects-board');
  expectCleanConsole(page);
});
