// The local chain of `npm run dev` (scripts/wallet/local-chain.ts) sets up the Safe path: the Safe contracts and
// a demo Safe (anvil's accounts 1-3, threshold 2) holding 1,000,000 RINGK, listed in chain_contracts; started
// again on the same state it finds them and creates nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { ANVIL_DEV_PRIVATE_KEY, connectChain, tokenBalance } from '../../workers/wallet/chain.ts';
import { ephemeralPort } from '../../workers/lib/ports.ts';
import { readSafe } from '../../workers/wallet/safe-treasury.ts';
import { createTestDatabase, databaseVariables, type TestDatabase } from '../harness/database.ts';

let db: TestDatabase;
const stack = mkdtempSync(path.join(tmpdir(), 'microdao-local-chain-'));

beforeAll(async () => {
  db = await createTestDatabase('wallet_local_chain');
});
afterAll(async () => {
  await db?.drop();
  rmSync(stack, { recursive: true, force: true });
});

/** Runs the launcher's chain app until it printed its summary; returns it, with the chain still up (stop()). */
async function startLocalChain(port: number): Promise<{ line: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/wallet/local-chain.ts'], {
    env: {
      ...process.env,
      ...databaseVariables(db),
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'local',
      LOCAL_STACK_DIR: stack,
      LOCAL_CHAIN_PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  for (const deadline = Date.now() + 90_000; !out.includes('state in');) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`local-chain did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    line: out,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

describe('the local chain sets up a funded demo Safe', () => {
  it('creates it once, threshold 2 of three owners, holding 1,000,000 RINGK', async () => {
    const port = await ephemeralPort();
    const first = await startLocalChain(port);
    expect(first.line).toMatch(/demo Safe at 0x[0-9a-f]{40} \(threshold 2 of anvil accounts 1-3, created and funded now\)/);
    const chain = await connectChain(`http://127.0.0.1:${port}`, ANVIL_DEV_PRIVATE_KEY);
    const [safe] = await db.sql<{ address: Address }[]>`select address from public.chain_contracts where name = 'dev_safe'`;
    const [ringk] = await db.sql<{ address: Address }[]>`select address from public.chain_tokens where symbol = 'RINGK'`;
    const state = await readSafe(chain, safe!.address);
    expect(state.threshold).toBe(2);
    expect(state.owners).toHaveLength(3);
    expect(await tokenBalance(chain, ringk!.address, safe!.address)).toBe(10n ** 24n);
    await first.stop();

    const again = await startLocalChain(port);
    expect(again.line).toMatch(/demo Safe at 0x[0-9a-f]{40} \(threshold 2 of anvil accounts 1-3, already there\)/);
    expect(again.line).toContain(safe!.address);
    await again.stop();
  }, 240_000);
});
