// Files in the city, in a real browser against a real S3 server (s3rver, CORS for the app's origin, in the CSP's
// connect-src): Alice attaches a PNG to a message — the browser PUTs it to the presigned URL and the gateway
// checks it — Bob, watching live, downloads exactly those bytes as an attachment, and a type outside the allow-list is refused
// with a sentence, before any message is sent.
import { expect, test } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { expectCleanConsole, saveScreenshot, signInToCity, stack, unique } from './fixtures/stack.ts';

// a 1×1 PNG: real magic bytes, so the gateway's type check passes
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

test('Alice attaches a PNG to a message, Bob downloads the same bytes; a disallowed type is refused', async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  await signInToCity(alice, stack.users.alice);
  const channel = unique('files');
  await alice.getByLabel('New channel').fill(channel);
  await alice.getByRole('button', { name: 'Create channel' }).click();
  await expect(alice.getByRole('heading', { name: `# ${channel}` })).toBeVisible();

  const bob = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await signInToCity(bob, stack.users.bob);
  await bob
    .getByRole('navigation', { name: 'Channels of Demo Team' })
    .getByRole('button', { name: `# ${channel}` })
    .click();
  await expect(bob.getByRole('heading', { name: `# ${channel}` })).toBeVisible();
  await bob.evaluate(() => Object.assign(window, { sameDocument: true })); // a reload would wipe this out

  const name = `${unique('roof')}.png`;
  await alice.getByLabel('Attach files').setInputFiles({ name, mimeType: 'image/png', buffer: png });
  const pending = alice.getByRole('list', { name: 'Files to attach' });
  await expect(pending.getByRole('status')).toHaveText('Ready to send');
  const text = unique('The roof plan');
  const composer = alice.getByRole('textbox', { name: `Message #${channel}` });
  await composer.fill(text);
  await composer.press('Enter');
  await expect(composer).toHaveValue('');
  await expect(pending).toHaveCount(0);
  const alicesLog = alice.getByRole('log', { name: `Messages in #${channel}` });
  await expect(
    alicesLog
      .getByRole('listitem')
      .filter({ hasText: text })
      .getByRole('button', { name: `Download ${name}` }),
  ).toBeVisible();

  // Bob, watching the channel, sees the file arrive without a reload (file.attached) and downloads the bytes
  // Alice chose, served as an attachment
  const message = bob
    .getByRole('log', { name: `Messages in #${channel}` })
    .getByRole('listitem')
    .filter({ hasText: text });
  const downloadButton = message.getByRole('button', { name: `Download ${name}` });
  await expect(downloadButton).toBeVisible();
  await expect(message).toContainText('(70 B)');
  await downloadButton.focus();
  const [download] = await Promise.all([bob.waitForEvent('download'), bob.keyboard.press('Enter')]);
  expect(download.suggestedFilename()).toBe(name);
  expect(Buffer.compare(await readFile(await download.path()), png)).toBe(0);
  expect(await bob.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  await saveScreenshot(bob, 'city-attachment');
  expectCleanConsole(alice, bob);

  // a zip is not on the allow-list: refused up front with the gateway's sentence, nothing to send
  await alice
    .getByLabel('Attach files')
    .setInputFiles({ name: 'plans.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\u0003\u0004') });
  await expect(alice.getByRole('alert')).toContainText('plans.zip:');
  await expect(alice.getByRole('alert')).toContainText(/type|allowed/i);
  await expect(alice.getByRole('list', { name: 'Files to attach' }).getByRole('status')).toHaveText('Not attached');
});
