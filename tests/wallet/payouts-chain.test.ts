// Payouts on a real local chain (anvil from @foundry-rs/anvil, RINGK compiled from source and deployed): the
// wallet worker, as its own process, sends approved payouts and confirms them; SIGKILLed right after recording
// the signed transaction, or right after sending it, a restarted worker finishes the same payout and the
// recipient is paid exactly once. A transfer the token would refuse fails with its reason and sends nothing.
// Its metrics count submitted, confirmed and failed payouts, chain errors and what is still in flight. --dry-run
// simulates what a pass would do and changes nothing.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, http, parseAbiItem, type Address, type PublicClient } from 'viem';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
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
import { serveMetrics } from '../../workers/lib/metrics-server.ts';
import { PayoutExecutor } from '../../workers/wallet/payout-executor.ts';
import { createWalletMetrics, readPayoutsInFlight } from '../../workers/wallet/wallet-metrics.ts';
import { createTestDatabase, databaseVariables, type TestDatabase } from '../harness/database.ts';

let db: TestDatabase;
let anvil: LocalChain;
let chain: ChainClients;
let token: Address;
const SUPPLY = 10n ** 27n;
const TEAM = 'aaaaaaaa-0000-4000-8000-00000000c4a1';
const OWNER = 'a0000000-0000-4000-8000-00000000c4a1';

beforeAll(async () => {
  db = await createTestDatabase('wallet_chain');
  // a block a second: confirmations need blocks on top, which automine alone would not make
  anvil = await startAnvil({ blockTimeSeconds: 1 });
  chain = await connectChain(anvil.rpcUrl, ANVIL_DEV_PRIVATE_KEY);
  token = await deployRingk(chain, SUPPLY);
  await db.sql`insert into auth.users (id, email) values (${OWNER}, 'owner@chain.test')`;
  await db.sql`insert into public.teams (id, name, created_by) values (${TEAM}, 'Chain team', ${OWNER})`;
}, 120_000);
afterAll(async () => {
  await anvil?.stop();
  await db?.drop();
});

/** An approved payout to a fresh address (as the database owner: the approval flow is tested through the API). */
async function approvedPayout(amount: bigint): Promise<{ id: string; recipient: Address }> {
  const recipient = privateKeyToAccount(generatePrivateKey()).address;
  const [row] = await db.sql<{ id: string }[]>`
    insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
    values (${TEAM}, ${OWNER}, 31337, ${token.toLowerCase()}, ${recipient.toLowerCase()}, ${amount.toString()},
            ${`chain-${Math.random().toString(36).slice(2)}`}, ${'d'.repeat(64)})
    returning id`;
  await db.sql`update public.payouts set status = 'approved' where id = ${row!.id}`;
  return { id: row!.id, recipient };
}

/** Runs the wallet worker as a process until `done` holds or it dies; returns how it ended. */
async function runWorker(
  args: string[],
  done: () => Promise<boolean>,
  timeoutMs = 90_000,
): Promise<{ code: number | null; signal: string | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/wallet/main.ts', ...args], {
    env: {
      ...process.env,
      ...databaseVariables(db),
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'test',
      LOG_LEVEL: 'warn',
      CHAIN_RPC_URL: anvil.rpcUrl,
      WALLET_CONFIRMATIONS: '2',
      WALLET_POLL_INTERVAL_MS: '100',
      METRICS_PORT: String(await ephemeralPort()),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const ended = await exited;
      if (ended.code !== 0 && ended.signal !== 'SIGKILL') throw new Error(`the wallet worker exited with ${ended.code}:\n${stderr}`);
      return ended;
    }
    if (await done()) {
      child.kill('SIGTERM');
      return exited;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the wallet worker did not finish in time; stderr:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const statusOf = async (id: string) =>
  (
    await db.sql<{ status: string; tx_hash: string | null; last_error: string | null }[]>`
    select status, tx_hash, last_error from public.payouts where id = ${id}`
  )[0]!;
const isFinal = (id: string) => async () => ['confirmed', 'failed'].includes((await statusOf(id)).status);

/** RINGK Transfer events to `recipient` on the whole chain. */
async function transfersTo(recipient: Address): Promise<bigint[]> {
  const logs = await chain.public.getLogs({
    address: token,
    event: parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'),
    args: { to: recipient },
    fromBlock: 0n,
  });
  return logs.map((log) => log.args.value!);
}

describe('the wallet worker on a local chain', () => {
  it('pays an approved payout and confirms it after the configured confirmations', async () => {
    const payout = await approvedPayout(1234n * 10n ** 18n);
    await runWorker([], isFinal(payout.id));
    const after = await statusOf(payout.id);
    expect(after.status, after.last_error ?? '').toBe('confirmed');
    expect(await tokenBalance(chain, token, payout.recipient)).toBe(1234n * 10n ** 18n);
    const events = await db.sql<{ event_type: string }[]>`
      select event_type from public.outbox_events where aggregate_id = ${payout.id} order by seq`;
    expect(events.map((e) => e.event_type)).toEqual(['payout.requested', 'payout.approved', 'payout.submitted', 'payout.confirmed']);
  }, 120_000);

  for (const point of ['record', 'broadcast'] as const) {
    it(`pays exactly once when the worker is SIGKILLed right after the ${point}`, async () => {
      const payout = await approvedPayout(77n);
      const crashed = await runWorker(['--crash-after', point], async () => false);
      expect(crashed.signal).toBe('SIGKILL');
      const between = await statusOf(payout.id);
      expect(between.status).toBe('submitted');
      expect(between.tx_hash).toMatch(/^0x[0-9a-f]{64}$/);

      await runWorker([], isFinal(payout.id));
      const after = await statusOf(payout.id);
      expect(after.status, after.last_error ?? '').toBe('confirmed');
      expect(after.tx_hash, 'the recorded transaction is the one that paid').toBe(between.tx_hash);
      expect(await transfersTo(payout.recipient)).toEqual([77n]);
    }, 180_000);
  }

  it('fails a payout the token would refuse, with the reason, and sends nothing', async () => {
    const payout = await approvedPayout(SUPPLY * 2n);
    await runWorker([], isFinal(payout.id));
    const after = await statusOf(payout.id);
    expect(after.status).toBe('failed');
    expect(after.tx_hash).toBeNull();
    expect(after.last_error).toMatch(/revert/i);
    expect(await transfersTo(payout.recipient)).toEqual([]);
  }, 120_000);

  it('--dry-run says what it would send and what the chain would refuse, simulated, and changes nothing', async () => {
    const payable = await approvedPayout(9n);
    const refused = await approvedPayout(SUPPLY * 2n);
    const blockBefore = await chain.public.getBlockNumber();
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/wallet/main.ts', '--dry-run'], {
      env: {
        ...process.env,
        ...databaseVariables(db),
        ENV_FILE: '/nonexistent/.env',
        APP_ENV: 'test',
        LOG_LEVEL: 'warn',
        CHAIN_RPC_URL: anvil.rpcUrl,
        WALLET_CONFIRMATIONS: '2',
        METRICS_PORT: String(await ephemeralPort()),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    const outcomes = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { payout_id: string; outcome: string; reason?: string });
    expect(outcomes.find((o) => o.payout_id === payable.id)).toMatchObject({ outcome: 'would send', call: 'transfer' });
    expect(outcomes.find((o) => o.payout_id === refused.id)).toMatchObject({
      outcome: 'would fail',
      reason: expect.stringMatching(/revert/i),
    });
    for (const payout of [payable, refused]) {
      const after = await statusOf(payout.id);
      expect(after.status).toBe('approved');
      expect(after.tx_hash).toBeNull();
      expect(after.last_error).toBeNull();
      expect(await transfersTo(payout.recipient)).toEqual([]);
    }
    // nothing was sent: no transaction from the signer in the blocks since (anvil mines one a second regardless)
    const sent = await chain.public.getTransactionCount({ address: chain.account.address, blockTag: 'pending' });
    const before = await chain.public.getTransactionCount({ address: chain.account.address, blockNumber: blockBefore });
    expect(sent).toBe(before);
    await db.sql`update public.payouts set status = 'cancelled' where id in ${db.sql([payable.id, refused.id])}`;
  }, 120_000);

  it('counts payouts confirmed and refused, chain errors and what waits, on /metrics', async () => {
    const metrics = createWalletMetrics();
    const executor = new PayoutExecutor(db.sql, chain, { confirmations: 1, metrics });
    const paid = await approvedPayout(5n);
    const refused = await approvedPayout(SUPPLY * 2n);
    for (const deadline = Date.now() + 60_000; !((await isFinal(paid.id)()) && (await isFinal(refused.id)()));) {
      if (Date.now() > deadline) throw new Error('the payouts did not settle within 60 s');
      await executor.runOnce();
      await new Promise((r) => setTimeout(r, 200));
    }
    // a node nobody answers on: the payout stays approved with the reason, and the error is counted by step
    const unreachable = createPublicClient({ chain: chain.chain, transport: http('http://127.0.0.1:1', { retryCount: 0 }) });
    const down = new PayoutExecutor(db.sql, { ...chain, public: unreachable as PublicClient }, { confirmations: 1, metrics });
    const stuck = await approvedPayout(6n);
    await down.runOnce();
    const waiting = await statusOf(stuck.id);
    expect(waiting.status).toBe('approved');
    expect(waiting.last_error).toBeTruthy();

    const server = await serveMetrics(metrics.registry, {
      port: 0,
      beforeScrape: () => readPayoutsInFlight(db.sql, chain.chain.id, metrics),
    });
    try {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toMatch(/^microdao_wallet_payouts_submitted_total 1$/m);
      expect(text).toMatch(/^microdao_wallet_payouts_confirmed_total 1$/m);
      expect(text).toMatch(/^microdao_wallet_payouts_failed_total\{reason="refused"\} 1$/m);
      expect(text).toMatch(/^microdao_wallet_payout_confirmation_seconds_count 1$/m);
      expect(text).toMatch(/^microdao_wallet_chain_errors_total\{step="simulate"\} 1$/m);
      expect(text).toMatch(/^microdao_wallet_payouts_in_flight\{status="approved"\} 1$/m);
      expect(text).toMatch(/^microdao_wallet_oldest_in_flight_seconds [0-9.e-]+$/m);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await db.sql`update public.payouts set status = 'cancelled' where id = ${stuck.id}`;
    }
  }, 120_000);
});
