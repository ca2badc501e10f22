// Projects and governance in the city, in a real browser: Alice proposes, she and Bob vote, the governance
// scheduler's step closes and executes it, and the page shows the outcome; then she moves a task across the
// board with the keyboard and by dragging. The scheduler's step is run here against the stack's database (the
// browser stack runs no scheduler process; tests/governance/scheduler.test.ts runs two).
import { expect, test } from '@playwright/test';
import postgres from 'postgres';
import { apiSession, expectCleanConsole, saveScreenshot, signInToCity, stack, unique } from './fixtures/stack.ts';

const DEMO_TEAM = '00000000-0000-4000-8000-0000000d3a00';

/** The scheduler's step as the worker takes it, `days` ahead, as the database owner. */
async function schedulerStep(days: number): Promise<void> {
  const url = process.env.BROWSER_DATABASE_URL;
  if (!url) throw new Error('BROWSER_DATABASE_URL is not set: run through playwright.config.ts');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`select * from app.governance_tick(100, now() + make_interval(days => ${days}))`;
  } finally {
    await sql.end();
  }
}

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

  // drag to Review
  await page
    .getByRole('region', { name: /^In progress/ })
    .getByRole('listitem', { name: task })
    .dragTo(page.getByRole('region', { name: /^Review/ }));
  await expect(page.getByRole('region', { name: /^Review/ }).getByRole('listitem', { name: task })).toBeVisible();
  await saveScreenshot(page, 'city-projects-board');
  expectCleanConsole(page);
});
