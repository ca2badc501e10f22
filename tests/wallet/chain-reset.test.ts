// A chain reset under a persistent database (issue 12): a fresh anvil has the same chain id (31337) but is
// another chain. Two anvil nodes in sequence on one port and one database, one executor (as a running worker
// would see it): a payout left `submitted` on the first chain fails with a last_error that says the chain was
// reset (and its payout.failed event), RINGK is deployed again on the second chain, and a new payout is signed
// with the second chain's own nonce, so it confirms instead of waiting forever behind a nonce gap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ANVIL_DEV_PRIVATE_KEY, connectChain, startAnvil, tokenBalance, type LocalChain } from '../../workers/wallet/chain.ts';
import { CHAIN_RESET_ERROR, PayoutExecutor } from '../../workers/wallet/payout-executor.ts';
import { ensureRingk } from '../../workers/wallet/ringk-token.ts';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';

let db: TestDatabase;
let anvil: LocalChain | undefined;
const TEAM = 'aaaaaaaa-0000-4000-8000-0000000c4a5e';
const OWNER = 'a0000000-0000-4000-8000-0000000c4a5e';

beforeAll(async () => {
  db = await createTestDatabase('wallet_chain_reset');
  await db.sql`insert into auth.users (id, email) values (${OWNER}, 'owner@reset.test')`;
  await db.sql`insert into public.teams (id, name, created_by) values (${TEAM}, 'Reset team', ${OWNER})`;
}, 60_000);
afterAll(async () => {
  await anvil?.stop();
  await db?.drop();
});

async function approvedPayout(token: Address, amount: bigint): Promise<{ id: string; recipient: Address }> {
  const recipient = privateKeyToAccount(generatePrivateKey()).address;
  const [row] = await db.sql<{ id: string }[]>`
    insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
    values (${TEAM}, ${OWNER}, 31337, ${token.toLowerCase()}, ${recipient.toLowerCase()}, ${amount.toString()},
            ${`reset-${Math.random().toString(36).slice(2)}`}, ${'e'.repeat(64)})
    returning id`;
  await db.sql`update public.payouts set status = 'approved' where id = ${row!.id}`;
  return { id: row!.id, recipient };
}

const rowOf = async (id: string) =>
  (
    await db.sql<{ status: string; nonce: string | null; chain_genesis: string | null; last_error: string | null }[]>`
    select status, nonce::text, chain_genesis, last_error from public.payouts where id = ${id}`
  )[0]!;

async function runUntil(executor: PayoutExecutor, done: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 60_000; !(await done());) {
    if (Date.now() > deadline) throw new Error('the payouts did not settle within 60 s');
    await executor.runOnce();
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a chain reset under a persistent database', () => {
  it('fails what was sent on the dead chain, redeploys RINGK and pays new payouts with the new chain’s nonces', async () => {
    // the first chain: three payouts confirmed (nonces 1..3 after RINGK's deployment), a fourth sent, not followed
    anvil = await startAnvil();
    const port = anvil.port;
    const first = await connectChain(anvil.rpcUrl, ANVIL_DEV_PRIVATE_KEY);
    const ringkA = await ensureRingk(db.sql, first);
    expect(ringkA.deployed).toBe(true);
    const executor = new PayoutExecutor(db.sql, first, { confirmations: 1 });
    const paidOnA = [
      await approvedPayout(ringkA.address, 10n),
      await approvedPayout(ringkA.address, 11n),
      await approvedPayout(ringkA.address, 12n),
    ];
    await runUntil(executor, async () => (await Promise.all(paidOnA.map((p) => rowOf(p.id)))).every((r) => r.status === 'confirmed'));
    const stranded = await approvedPayout(ringkA.address, 13n);
    await runUntil(executor, async () => (await rowOf(stranded.id)).status === 'submitted');
    const before = await rowOf(stranded.id);
    expect(before.chain_genesis).toBe(first.genesisHash);
    expect(Number(before.nonce)).toBe(4);

    // the node is replaced by a fresh one on the same port: same chain id, another genesis block
    await anvil.stop();
    anvil = await startAnvil({ port });
    const second = await connectChain(anvil.rpcUrl, ANVIL_DEV_PRIVATE_KEY);
    expect(second.chain.id).toBe(first.chain.id);
    expect(second.genesisHash).not.toBe(first.genesisHash);
    const ringkB = await ensureRingk(db.sql, second);
    expect(ringkB.deployed, 'the listed RINGK belongs to the dead chain').toBe(true);
    const [listed] = await db.sql<{ genesis_hash: string }[]>`select genesis_hash from public.chain_tokens where symbol = 'RINGK'`;
    expect(listed!.genesis_hash).toBe(second.genesisHash);

    // the same executor, as a worker that kept running: it notices the new genesis itself
    const fresh = await approvedPayout(ringkB.address, 21n);
    await runUntil(
      executor,
      async () => ['confirmed', 'failed'].includes((await rowOf(fresh.id)).status) && (await rowOf(stranded.id)).status !== 'submitted',
    );

    const failed = await rowOf(stranded.id);
    expect(failed.status).toBe('failed');
    expect(failed.last_error).toBe(CHAIN_RESET_ERROR);
    const events = await db.sql<{ event_type: string }[]>`
      select event_type from public.outbox_events where aggregate_id = ${stranded.id} order by seq`;
    expect(events.map((e) => e.event_type)).toEqual(['payout.requested', 'payout.approved', 'payout.submitted', 'payout.failed']);
    expect(await tokenBalance(second, ringkB.address, stranded.recipient), 'the old transaction was not re-sent').toBe(0n);

    const paid = await rowOf(fresh.id);
    expect(paid.status, paid.last_error ?? '').toBe('confirmed');
    expect(paid.chain_genesis).toBe(second.genesisHash);
    expect(Number(paid.nonce), 'the second chain’s nonce: RINGK took 0').toBe(1);
    expect(await tokenBalance(second, ringkB.address, fresh.recipient)).toBe(21n);

    // what was confirmed on the first chain stays confirmed: history is not rewritten
    for (const p of paidOnA) expect((await rowOf(p.id)).status).toBe('confirmed');
  }, 180_000);
});
