// The crash test: the wallet worker SIGKILLed again and again while payouts flow, and the chain node restarted
// once (its state kept in a file, its mempool lost) → every payout confirmed exactly once: each recipient holds
// exactly its amount, and the treasury lost exactly the sum of the confirmed payouts. Small here (the machine
// is shared); WALLET_CRASH_PAYOUTS raises the count for a full-size run (e.g. 200).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  ANVIL_DEV_PRIVATE_KEY,
  connectChain,
  deployRingk,
  startAnvil,
  tokenBalance,
  type ChainClients,
  type LocalChain,
} from '../../workers/wallet/chain.ts';
import { ephemeralPort } from '../../workers/lib/ports.ts';
import { createTestDatabase, databaseVariables, type TestDatabase } from '../harness/database.ts';

const PAYOUTS = Number(process.env.WALLET_CRASH_PAYOUTS ?? 16);
const TEAM = 'aaaaaaaa-0000-4000-8000-00000000c4a2';
const OWNER = 'a0000000-0000-4000-8000-00000000c4a2';
let db: TestDatabase;
let anvil: LocalChain;
let chain: ChainClients;
let token: Address;
let stateDir: string;
let metricsPort: number; // one worker at a time: one port

beforeAll(async () => {
  db = await createTestDatabase('wallet_crash');
  metricsPort = await ephemeralPort();
  stateDir = mkdtempSync(path.join(tmpdir(), 'wallet-anvil-'));
  anvil = await startAnvil({ blockTimeSeconds: 1, stateFile: path.join(stateDir, 'state.json') });
  chain = await connectChain(anvil.rpcUrl, ANVIL_DEV_PRIVATE_KEY);
  token = await deployRingk(chain, 10n ** 27n);
  await db.sql`insert into auth.users (id, email) values (${OWNER}, 'owner@crash.test')`;
  await db.sql`insert into public.teams (id, name, created_by) values (${TEAM}, 'Crash team', ${OWNER})`;
}, 120_000);
afterAll(async () => {
  await anvil?.stop();
  await db?.drop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

function startWorker(): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'workers/wallet/main.ts'], {
    env: {
      ...process.env,
      ...databaseVariables(db),
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'test',
      LOG_LEVEL: 'info',
      CHAIN_RPC_URL: anvil.rpcUrl,
      WALLET_CONFIRMATIONS: '1',
      WALLET_POLL_INTERVAL_MS: '100',
      METRICS_PORT: String(metricsPort),
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}
/** Resolves once the worker is connected and working (its start line), so a kill lands in its work, not its boot. */
const started = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('wallet worker started')) resolve();
    });
    child.once('exit', () => resolve());
  });
const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

describe('the wallet worker under repeated SIGKILL and a chain restart', () => {
  it('confirms every payout exactly once', async () => {
    const treasury = chain.account.address;
    const before = await tokenBalance(chain, token, treasury);
    const payouts: { recipient: Address; amount: bigint }[] = [];
    for (let i = 0; i < PAYOUTS; i += 1) {
      const recipient = privateKeyToAccount(generatePrivateKey()).address;
      const amount = BigInt(1000 + i);
      payouts.push({ recipient, amount });
      const [row] = await db.sql<{ id: string }[]>`
        insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
        values (${TEAM}, ${OWNER}, 31337, ${token.toLowerCase()}, ${recipient.toLowerCase()}, ${amount.toString()}, ${`crash-${i}`}, ${'f'.repeat(64)})
        returning id`;
      await db.sql`update public.payouts set status = 'approved' where id = ${row!.id}`;
    }

    const left = async () =>
      Number(
        (await db.sql<{ n: number }[]>`select count(*)::int as n from public.payouts where status in ('approved', 'submitted')`)[0]!.n,
      );
    let kills = 0;
    let restartedChain = false;
    const deadline = Date.now() + 240_000;
    // at least two kills and the chain restart, even when a fast machine pays everything before the first kill
    while ((await left()) > 0 || kills < 2 || !restartedChain) {
      if (Date.now() > deadline) throw new Error(`${await left()} payouts still in flight after ${kills} kills`);
      const worker = startWorker();
      await started(worker);
      // killed at a random moment of its work: before, during or after its record/send/confirm steps
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 3000));
      await killed(worker);
      kills += 1;
      if (kills === 1 && !restartedChain) {
        // the node goes down and comes back on the same port with its saved state (its mempool is gone)
        await anvil.stop();
        anvil = await startAnvil({ port: anvil.port, blockTimeSeconds: 1, stateFile: path.join(stateDir, 'state.json') });
        restartedChain = true;
      }
    }
    expect(restartedChain).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(2);

    const statuses = await db.sql<{ status: string; n: number }[]>`select status, count(*)::int as n from public.payouts group by status`;
    expect(statuses).toEqual([{ status: 'confirmed', n: PAYOUTS }]);
    for (const { recipient, amount } of payouts) expect(await tokenBalance(chain, token, recipient)).toBe(amount);
    const paid = payouts.reduce((sum, p) => sum + p.amount, 0n);
    expect(before - (await tokenBalance(chain, token, treasury))).toBe(paid);
    console.log(`wallet crash loop: ${PAYOUTS} payouts, ${kills} SIGKILLs, 1 chain restart, all confirmed once`);
  }, 300_000);
});
