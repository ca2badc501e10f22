// The city in a real browser: sign in, create a channel, send a message — it appears in a second session
// without a reload, and so do a reply in its thread and a member who accepted an invitation — and a member of another team sees none of it.
import { expect, test } from '@playwright/test';
import { seedIds } from '../harness/database.ts';
import { apiSession, channelId, expectCleanConsole, saveScreenshot, signInToCity, stack, unique } from './fixtures/stack.ts';
import { otherTeam } from './fixtures/users.ts';

test('sign in, create a channel, send a message: it appears live in a second session, and so does a reply', async ({ browser }) => {
  test.setTimeout(180_000); // three sessions and two accessibility scans, on a shared, busy machine
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await signInToCity(alice, stack.users.alice);
  await signInToCity(bob, stack.users.bob);
  // a marker that a reload would wipe out
  await bob.evaluate(() => Object.assign(window, { sameDocument: true }));

  const channel = unique('launch');
  await alice.getByLabel('New channel').fill(channel);
  await alice.getByRole('button', { name: 'Create channel' }).click();
  await expect(alice.getByRole('heading', { name: `# ${channel}` })).toBeVisible();
  await expect(alice.getByText('No messages yet. Say hello!')).toBeVisible();

  // the channel appears in Bob's sidebar by itself (channel.created), and he opens it
  await bob
    .getByRole('navigation', { name: 'Channels of Demo Team' })
    .getByRole('button', { name: `# ${channel}` })
    .click();
  await expect(bob.getByRole('heading', { name: `# ${channel}` })).toBeVisible();

  const text = unique('Hello from Alice');
  const composer = alice.getByRole('textbox', { name: `Message #${channel}` });
  await composer.fill(text);
  await composer.press('Enter');
  await expect(composer).toHaveValue('');
  const bobsLog = bob.getByRole('log', { name: `Messages in #${channel}` });
  await expect(bobsLog).toContainText(text);
  await expect(bobsLog.getByText('Alice', { exact: true })).toBeVisible();

  // Bob answers in the thread; Alice sees the reply count change without a reload
  await bobsLog.getByRole('button', { name: 'Reply' }).click();
  const reply = unique('Welcome aboard');
  await bob.getByRole('textbox', { name: 'Reply in thread' }).fill(reply);
  await bob.getByRole('button', { name: 'Reply', exact: true }).last().click();
  await expect(bob.getByRole('log', { name: 'Replies' })).toContainText(reply);
  await expect(alice.getByRole('log', { name: `Messages in #${channel}` }).getByRole('button', { name: '1 reply' })).toBeVisible();

  // Alice invites Dave; he joins only when he accepts, then shows up in Bob's member list by itself (team.member_added)
  await alice.getByLabel('Invite by email').fill(stack.users.dave);
  await alice.getByRole('button', { name: 'Send invitation' }).click();
  await expect(alice.getByRole('status').filter({ hasText: `Invitation sent to ${stack.users.dave} as member` })).toBeVisible();
  await expect(bob.getByRole('region', { name: 'Members' })).not.toContainText('Dave');
  const dave = await (await browser.newContext()).newPage();
  await signInToCity(dave, stack.users.dave);
  const invitations = dave.getByRole('region', { name: 'Invitations' });
  await expect(invitations).toContainText('Demo Team — Alice invites you as member.');
  await saveScreenshot(dave, 'city-invitation');
  await invitations.getByRole('button', { name: 'Accept the invitation to Demo Team' }).click();
  await expect(dave.getByRole('status').filter({ hasText: 'You joined Demo Team.' })).toBeVisible();
  await expect(dave.getByRole('navigation', { name: 'Teams' })).toContainText('Demo Team');
  await expect(bob.getByRole('region', { name: 'Members' })).toContainText('Dave (member)');

  expect(await bob.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  await saveScreenshot(bob, 'city-live-message');
  expectCleanConsole(alice, bob, dave);
});

test('a member of another team sees none of it, while her own team’s messages arrive live', async ({ browser }) => {
  const carol = await (await browser.newContext()).newPage();
  await signInToCity(carol, stack.users.carol);
  await expect(carol.getByRole('navigation', { name: 'Teams' })).toContainText(otherTeam.name);
  await expect(carol.getByRole('heading', { name: `# ${otherTeam.channel}` })).toBeVisible();

  const alice = await apiSession(stack.users.alice);
  const dave = await apiSession(stack.users.dave);
  const secret = unique('Demo team only');
  await alice.call('POST', '/api/messages', { channel_id: seedIds.generalChannel, body: secret });
  // published after Alice's: once it shows on Carol's page, Alice's event has been through her feed's filter
  const note = unique('Note from Dave');
  await dave.call('POST', '/api/messages', { channel_id: await channelId(dave, otherTeam.id, otherTeam.channel), body: note });

  await expect(carol.getByRole('log', { name: `Messages in #${otherTeam.channel}` })).toContainText(note);
  await expect(carol.getByText(secret)).toHaveCount(0);
  await expect(carol.getByRole('navigation', { name: 'Teams' })).not.toContainText('Demo Team');
  await saveScreenshot(carol, 'city-other-team');

  await carol.reload();
  await expect(carol.getByRole('log', { name: `Messages in #${otherTeam.channel}` })).toContainText(note);
  await expect(carol.getByText(secret)).toHaveCount(0);
  expectCleanConsole(carol);
});
