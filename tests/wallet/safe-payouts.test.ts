// The Safe path with threshold 2 on a real local chain (issue 12): the Safe contracts of
// @safe-global/safe-contracts 1.4.1 deployed on anvil, a team Safe with three owners and threshold 2, funded with
// RINGK. One owner's signature is not enough (the worker waits; execTransaction itself reverts GS020), two
// execute through the same record-before-broadcast executor as ERC-20 payouts, a signature by a non-owner does
// not count, and a worker SIGKILLed right after recording the signed execTransaction still pays exactly once.
// An approved Safe payout the chain refuses (the Safe holds too little) stays approved, since its signed SafeTx
// stays payable, and pays once funded; owners call one off by using its nonce on chain, and it then fails unpaid;
// one executed by someone else with the approvers' signatures is recorded with that transaction and confirmed;
// one whose execTransaction reverted while its SafeTx stayed unexecuted is signed again once the chain takes it.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAbiParameters, encodeFunctionData, erc20Abi, keccak256, parseAbiItem, toHex, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { packSafeSignatures, SAFE_TX_TYPES, safeTransactionHash, safeTransactionOf } from '../../functions/_shared/safe-transaction.ts';
import {
  ANVIL_DEV_PRIVATE_KEY,
  connectChain,
  startAnvil,
  tokenBalance,
  type ChainClients,
  type LocalChain,
} from '../../workers/wallet/chain.ts';
import { ephemeralPort } from '../../workers/lib/ports.ts';
import { PayoutExecutor } from '../../workers/wallet/payout-executor.ts';
import { ensureRingk } from '../../workers/wallet/ringk-token.ts';
import { createSafe, ensureSafeContracts, readSafe, safeAbi } from '../../workers/wallet/safe-treasury.ts';
import { createTestDatabase, databaseVariables, type TestDatabase } from '../harness/database.ts';

let db: TestDatabase;
let anvil: LocalChain;
let chain: ChainClients;
let token: Address;
let safe: Address;
const owners: PrivateKeyAccount[] = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey()));
const outsider = privateKeyToAccount(generatePrivateKey());
const TEAM = 'aaaaaaaa-0000-4000-8000-00000005afe1';
const PEOPLE = ['a0000000-0000-4000-8000-00000005afe1', 'a0000000-0000-4000-8000-00000005afe2', 'a0000000-0000-4000-8000-00000005afe3'];
const SAFE_FUNDS = 10n ** 24n;

beforeAll(async () => {
  db = await createTestDatabase('wallet_safe');
  anvil = await startAnvil();
  chain = await connectChain(anvil.rpcUrl, ANVIL_DEV_PRIVATE_KEY);
  token = (await ensureRingk(db.sql, chain)).address;
  const contracts = await ensureSafeContracts(db.sql, chain);
  expect(contracts.deployed).toBe(true);
  expect((await ensureSafeContracts(db.sql, chain)).deployed, 'once per chain').toBe(false);
  safe = await createSafe(
    chain,
    contracts,
    owners.map((o) => o.address),
    2,
  );
  const funding = await chain.wallet.writeContract({
    address: token,
    abi: erc20Abi,
    functionName: 'transfer',
    args: [safe, SAFE_FUNDS],
    account: chain.account,
    chain: chain.chain,
  });
  await chain.public.waitForTransactionReceipt({ hash: funding });
  for (const [i, id] of PEOPLE.entries()) await db.sql`insert into auth.users (id, email) values (${id}, ${`owner${i}@safe.test`})`;
  await db.sql`insert into public.teams (id, name, created_by) values (${TEAM}, 'Safe team', ${PEOPLE[0]!})`;
  await db.sql`insert into public.wallet_settings (team_id, approval_threshold, safe_chain_id, safe_address)
               values (${TEAM}, 2, ${chain.chain.id}, ${safe})`;
}, 120_000);
afterAll(async () => {
  await anvil?.stop();
  await db?.drop();
});

/** A requested payout of the Safe team; the database assigns its Safe and Safe nonce. */
async function safePayout(amount: bigint): Promise<{ id: string; recipient: Address; safeNonce: bigint }> {
  const recipient = privateKeyToAccount(generatePrivateKey()).address;
  const [row] = await db.sql<{ id: string; safe_address: string; safe_nonce: string }[]>`
    insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
    values (${TEAM}, ${PEOPLE[0]!}, ${chain.chain.id}, ${token}, ${recipient.toLowerCase()}, ${amount.toString()},
            ${`safe-${Math.random().toString(36).slice(2)}`}, ${'f'.repeat(64)})
    returning id, safe_address, safe_nonce::text`;
  expect(row!.safe_address).toBe(safe);
  return { id: row!.id, recipient, safeNonce: BigInt(row!.safe_nonce) };
}

const hashOf = (p: { recipient: Address; safeNonce: bigint }, amount: bigint) =>
  safeTransactionHash({ chainId: chain.chain.id, safe, safeNonce: p.safeNonce, token, recipient: p.recipient, amount });

/** `signer` signs the payout's SafeTx (EIP-712), recorded as the approval of person `who`. */
async function signAndRecord(
  payoutId: string,
  p: { recipient: Address; safeNonce: bigint },
  amount: bigint,
  signer: PrivateKeyAccount,
  who: string,
) {
  const signature = await signer.signTypedData(
    safeTransactionOf({ chainId: chain.chain.id, safe, safeNonce: p.safeNonce, token, recipient: p.recipient, amount }),
  );
  await db.sql`insert into public.payout_approvals (payout_id, approver_id, team_id, signer_address, signature)
               values (${payoutId}, ${who}, ${TEAM}, ${signer.address.toLowerCase()}, ${signature})`;
  return signature;
}

const rowOf = async (id: string) =>
  (
    await db.sql<{ status: string; last_error: string | null; tx_hash: string | null }[]>`
    select status, last_error, tx_hash from public.payouts where id = ${id}`
  )[0]!;

async function transfersTo(recipient: Address): Promise<bigint[]> {
  const logs = await chain.public.getLogs({
    address: token,
    event: parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'),
    args: { to: recipient },
    fromBlock: 0n,
  });
  return logs.map((log) => log.args.value!);
}

async function runUntil(executor: PayoutExecutor, done: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 60_000; !(await done());) {
    if (Date.now() > deadline) throw new Error('the payout did not settle within 60 s');
    await executor.runOnce();
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a Safe treasury with threshold 2', () => {
  it('the SafeTx hash the approvers sign is the one the Safe computes', async () => {
    const p = await safePayout(1n);
    const data = encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [p.recipient, 1n] });
    const onChain = await chain.public.readContract({
      address: safe,
      abi: safeAbi,
      functionName: 'getTransactionHash',
      args: [
        token,
        0n,
        data,
        0,
        0n,
        0n,
        0n,
        '0x0000000000000000000000000000000000000000',
        '0x0000000000000000000000000000000000000000',
        p.safeNonce,
      ],
    });
    expect(onChain).toBe(hashOf(p, 1n));
    await db.sql`update public.payouts set status = 'cancelled' where id = ${p.id}`;
  });

  it('one signature is not enough, two execute, and the recipient is paid exactly once', async () => {
    const amount = 500n * 10n ** 18n;
    const p = await safePayout(amount);
    expect(p.safeNonce, 'the cancelled payout never approved: its nonce is free again').toBe(0n);
    const first = await signAndRecord(p.id, p, amount, owners[0]!, PEOPLE[1]!);
    // a non-owner's signature, recorded as if a third person approved: it does not count
    await signAndRecord(p.id, p, amount, outsider, PEOPLE[2]!);
    await db.sql`update public.payouts set status = 'approved' where id = ${p.id}`;
    const executor = new PayoutExecutor(db.sql, chain, { confirmations: 1 });
    await executor.runOnce();
    const waiting = await rowOf(p.id);
    expect(waiting.status).toBe('approved');
    expect(waiting.last_error).toBe("waits for signatures: 1 of the Safe's 2 owner signatures so far");
    expect(waiting.tx_hash).toBeNull();

    // on chain itself: execTransaction with one owner's signature reverts with GS020 (signatures too short)
    const tx = safeTxOf(p, amount);
    const withOne = chain.public.simulateContract({
      address: safe,
      abi: safeAbi,
      functionName: 'execTransaction',
      args: [tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas, tx.baseGas, tx.gasPrice, tx.gasToken, tx.refundReceiver, first as Hex],
      account: chain.account,
    });
    await expect(withOne).rejects.toThrow(/GS020/);
    // nor with the owner's and the outsider's: GS026 (not an owner)
    const outsiderSig = (
      await db.sql<{ signature: Hex }[]>`
      select signature from public.payout_approvals where payout_id = ${p.id} and signer_address = ${outsider.address.toLowerCase()}`
    )[0]!.signature;
    const withOutsider = chain.public.simulateContract({
      address: safe,
      abi: safeAbi,
      functionName: 'execTransaction',
      args: [
        tx.to,
        tx.value,
        tx.data,
        tx.operation,
        tx.safeTxGas,
        tx.baseGas,
        tx.gasPrice,
        tx.gasToken,
        tx.refundReceiver,
        packSafeSignatures([
          { signer: owners[0]!.address, signature: first as Hex },
          { signer: outsider.address, signature: outsiderSig },
        ]),
      ],
      account: chain.account,
    });
    await expect(withOutsider).rejects.toThrow(/GS026/);
    expect(await transfersTo(p.recipient)).toEqual([]);

    // the second owner signs (the approval of the requester's colleague, recorded the same way): it executes
    await db.sql`delete from public.payout_approvals where payout_id = ${p.id} and approver_id = ${PEOPLE[2]!}`;
    await signAndRecord(p.id, p, amount, owners[2]!, PEOPLE[2]!);
    await runUntil(executor, async () => ['confirmed', 'failed'].includes((await rowOf(p.id)).status));
    const paid = await rowOf(p.id);
    expect(paid.status, paid.last_error ?? '').toBe('confirmed');
    expect(await transfersTo(p.recipient)).toEqual([amount]);
    expect(await tokenBalance(chain, token, safe)).toBe(SAFE_FUNDS - amount);
    expect((await readSafe(chain, safe)).nonce).toBe(1n);
    const receipt = await chain.public.getTransactionReceipt({ hash: paid.tx_hash as Hex });
    expect(receipt.to?.toLowerCase(), 'the hot signer called the Safe, it did not transfer itself').toBe(safe);
  }, 120_000);

  it('pays once when the worker is SIGKILLed right after recording the signed execTransaction', async () => {
    const amount = 42n;
    const p = await safePayout(amount);
    expect(p.safeNonce).toBe(1n);
    await signAndRecord(p.id, p, amount, owners[1]!, PEOPLE[1]!);
    await signAndRecord(p.id, p, amount, owners[2]!, PEOPLE[2]!);
    await db.sql`update public.payouts set status = 'approved' where id = ${p.id}`;
    const crashed = await runWorker(['--crash-after', 'record'], async () => false);
    expect(crashed.signal).toBe('SIGKILL');
    const between = await rowOf(p.id);
    expect(between.status).toBe('submitted');
    await runWorker([], async () => ['confirmed', 'failed'].includes((await rowOf(p.id)).status));
    const after = await rowOf(p.id);
    expect(after.status, after.last_error ?? '').toBe('confirmed');
    expect(after.tx_hash).toBe(between.tx_hash);
    expect(await transfersTo(p.recipient)).toEqual([amount]);
    expect((await readSafe(chain, safe)).nonce).toBe(2n);
  }, 180_000);

  it('an approved Safe payout the chain refuses stays approved (its SafeTx is still payable) and pays once the Safe is funded', async () => {
    const amount = (await tokenBalance(chain, token, safe)) + 1n;
    const p = await safePayout(amount);
    expect(p.safeNonce).toBe(2n);
    await signAndRecord(p.id, p, amount, owners[0]!, PEOPLE[1]!);
    await signAndRecord(p.id, p, amount, owners[1]!, PEOPLE[2]!);
    await db.sql`update public.payouts set status = 'approved' where id = ${p.id}`;
    const executor = new PayoutExecutor(db.sql, chain, { confirmations: 1 });
    await executor.runOnce();
    const refused = await rowOf(p.id);
    expect(refused.status).toBe('approved');
    expect(refused.last_error).toMatch(
      /^the transfer would revert: .*is retried on every pass: fund the Safe, or reject nonce 2 in the Safe$/,
    );
    expect(refused.tx_hash).toBeNull();
    await expect(db.sql`update public.payouts set status = 'cancelled' where id = ${p.id}`).rejects.toMatchObject({ code: '55000' });

    await fundSafe(1n);
    await runUntil(executor, async () => ['confirmed', 'failed'].includes((await rowOf(p.id)).status));
    const paid = await rowOf(p.id);
    expect(paid.status, paid.last_error ?? '').toBe('confirmed');
    expect(await transfersTo(p.recipient)).toEqual([amount]);
    expect((await readSafe(chain, safe)).nonce).toBe(3n);
  }, 120_000);

  it("owners call off an approved Safe payout by using its nonce: it fails, unpaid, and the Safe's next payout goes ahead", async () => {
    await fundSafe(100n);
    const [q, r] = [await safePayout(5n), await safePayout(6n)];
    expect([q.safeNonce, r.safeNonce]).toEqual([3n, 4n]);
    for (const [payout, amount] of [
      [q, 5n],
      [r, 6n],
    ] as const) {
      await signAndRecord(payout.id, payout, amount, owners[0]!, PEOPLE[1]!);
      await signAndRecord(payout.id, payout, amount, owners[2]!, PEOPLE[2]!);
      await db.sql`update public.payouts set status = 'approved' where id = ${payout.id}`;
    }
    // the rejection a Safe app makes: a call of the Safe to itself with nothing in it, under nonce 3
    const rejection = {
      domain: { chainId: chain.chain.id, verifyingContract: safe },
      types: SAFE_TX_TYPES,
      primaryType: 'SafeTx' as const,
      message: {
        to: safe,
        value: 0n,
        data: '0x' as Hex,
        operation: 0,
        safeTxGas: 0n,
        baseGas: 0n,
        gasPrice: 0n,
        gasToken: ZERO_ADDRESS,
        refundReceiver: ZERO_ADDRESS,
        nonce: 3n,
      },
    };
    const signatures = await Promise.all(
      [owners[0]!, owners[1]!].map(async (o) => ({ signer: o.address, signature: await o.signTypedData(rejection) })),
    );
    expect((await execSafeTx(rejection.message, signatures)).status).toBe('success');

    const executor = new PayoutExecutor(db.sql, chain, { confirmations: 1 });
    const settled = async (id: string) => ['confirmed', 'failed'].includes((await rowOf(id)).status);
    await runUntil(executor, async () => (await settled(q.id)) && (await settled(r.id)));
    const calledOff = await rowOf(q.id);
    expect(calledOff.status).toBe('failed');
    expect(calledOff.last_error).toMatch(/already used nonce 3/);
    expect(await transfersTo(q.recipient)).toEqual([]);
    expect((await rowOf(r.id)).status).toBe('confirmed');
    expect(await transfersTo(r.recipient)).toEqual([6n]);
  }, 120_000);
});

describe('a Safe payout executed outside the wallet worker', () => {
  it('is recorded with the transaction that paid it and confirmed, never failed or paid again', async () => {
    const amount = 7n;
    const p = await safePayout(amount);
    expect(p.safeNonce).toBe(5n);
    const signatures = [
      { signer: owners[0]!.address, signature: (await signAndRecord(p.id, p, amount, owners[0]!, PEOPLE[1]!)) as Hex },
      { signer: owners[1]!.address, signature: (await signAndRecord(p.id, p, amount, owners[1]!, PEOPLE[2]!)) as Hex },
    ];
    await db.sql`update public.payouts set status = 'approved' where id = ${p.id}`;
    // an owner's Safe app executes it with the approvers' signatures while the wallet worker is away
    const someone = await accountWithGas();
    const executed = await execSafeTx(safeTxOf(p, amount), signatures, someone);
    expect(executed.status).toBe('success');
    const outside = executed.transactionHash;

    const executor = new PayoutExecutor(db.sql, chain, { confirmations: 1 });
    await runUntil(executor, async () => ['confirmed', 'failed'].includes((await rowOf(p.id)).status));
    const row = await rowOf(p.id);
    expect(row.status, row.last_error ?? '').toBe('confirmed');
    expect(row.tx_hash).toBe(outside);
    const [recorded] = await db.sql<{ signer: string; nonce: string }[]>`select signer, nonce::text from public.payouts where id = ${p.id}`;
    expect(recorded).toEqual({ signer: someone.address.toLowerCase(), nonce: '0' });
    expect(await transfersTo(p.recipient)).toEqual([amount]);
  }, 120_000);

  it('takes the place of the recorded transaction when it beat it (the recorded one reverts), never failing a paid payout', async () => {
    const amount = 8n;
    const p = await safePayout(amount);
    expect(p.safeNonce).toBe(6n);
    const signatures = [
      { signer: owners[1]!.address, signature: (await signAndRecord(p.id, p, amount, owners[1]!, PEOPLE[1]!)) as Hex },
      { signer: owners[2]!.address, signature: (await signAndRecord(p.id, p, amount, owners[2]!, PEOPLE[2]!)) as Hex },
    ];
    await db.sql`update public.payouts set status = 'approved' where id = ${p.id}`;
    // gas for the outsider, from the hot signer before the worker signs (its next nonce stays the recorded one's)
    const someone = await accountWithGas();
    // the worker records its execTransaction and dies before sending it
    expect((await runWorker(['--crash-after', 'record'], async () => false)).signal).toBe('SIGKILL');
    const recordedFirst = await rowOf(p.id);
    expect(recordedFirst.status).toBe('submitted');
    // meanwhile an owner's Safe app executes the same SafeTx
    const outside = (await execSafeTx(safeTxOf(p, amount), signatures, someone)).transactionHash;

    // the worker comes back: its recorded transaction is sent, mined and reverts; the payout follows the one that paid
    await runWorker([], async () => ['confirmed', 'failed'].includes((await rowOf(p.id)).status));
    const reverted = await chain.public.getTransactionReceipt({ hash: recordedFirst.tx_hash as Hex });
    expect(reverted.status).toBe('reverted');
    const row = await rowOf(p.id);
    expect(row.status, row.last_error ?? '').toBe('confirmed');
    expect(row.tx_hash).toBe(outside);
    expect(await transfersTo(p.recipient)).toEqual([amount]);
  }, 180_000);
});

describe('a Safe payout whose execTransaction reverted while its SafeTx was not executed', () => {
  it('is signed again once the chain would take it, and pays once', async () => {
    const amount = 9n;
    const p = await safePayout(amount);
    expect(p.safeNonce).toBe(7n);
    await signAndRecord(p.id, p, amount, owners[0]!, PEOPLE[1]!);
    await signAndRecord(p.id, p, amount, owners[2]!, PEOPLE[2]!);
    await db.sql`update public.payouts set status = 'approved' where id = ${p.id}`;
    expect((await runWorker(['--crash-after', 'record'], async () => false)).signal).toBe('SIGKILL');
    const first = await rowOf(p.id);
    expect(first.status).toBe('submitted');
    // the Safe's tokens vanish between the simulation and the send (anvil's storage cheat: RINGK's balance slot)
    const funds = await tokenBalance(chain, token, safe);
    await setSafeBalance(0n);
    const executor = new PayoutExecutor(db.sql, chain, { confirmations: 1 });
    await executor.runOnce(); // sends the recorded bytes: mined, reverted (the transfer fails: GS013)
    await executor.runOnce(); // sees the revert: not executed, the chain still refuses it → waits with the reason
    expect((await chain.public.getTransactionReceipt({ hash: first.tx_hash as Hex })).status).toBe('reverted');
    const waiting = await rowOf(p.id);
    expect(waiting.status).toBe('submitted');
    expect(waiting.last_error).toMatch(/would revert.*fund the Safe, or reject nonce 7 in the Safe$/);
    expect(await transfersTo(p.recipient)).toEqual([]);

    await setSafeBalance(funds);
    await runUntil(executor, async () => ['confirmed', 'failed'].includes((await rowOf(p.id)).status));
    const paid = await rowOf(p.id);
    expect(paid.status, paid.last_error ?? '').toBe('confirmed');
    expect(paid.tx_hash).not.toBe(first.tx_hash);
    expect(await transfersTo(p.recipient)).toEqual([amount]);
    expect((await readSafe(chain, safe)).nonce).toBe(8n);
  }, 180_000);
});

const safeTxOf = (p: { recipient: Address; safeNonce: bigint }, amount: bigint) =>
  safeTransactionOf({ chainId: chain.chain.id, safe, safeNonce: p.safeNonce, token, recipient: p.recipient, amount }).message;

/** Executes a SafeTx on the Safe with owners' signatures, as a Safe app would; the receipt. */
async function execSafeTx(
  m: ReturnType<typeof safeTxOf>,
  signatures: { signer: Address; signature: Hex }[],
  account: ChainClients['account'] | PrivateKeyAccount = chain.account,
) {
  const hash = await chain.wallet.writeContract({
    address: safe,
    abi: safeAbi,
    functionName: 'execTransaction',
    args: [
      m.to,
      m.value,
      m.data,
      m.operation,
      m.safeTxGas,
      m.baseGas,
      m.gasPrice,
      m.gasToken,
      m.refundReceiver,
      packSafeSignatures(signatures),
    ],
    account,
    chain: chain.chain,
  });
  return chain.public.waitForTransactionReceipt({ hash });
}

/** A fresh account holding 1 ETH for gas, sent by the hot signer. */
async function accountWithGas(): Promise<PrivateKeyAccount> {
  const account = privateKeyToAccount(generatePrivateKey());
  const hash = await chain.wallet.sendTransaction({ to: account.address, value: 10n ** 18n, account: chain.account, chain: chain.chain });
  await chain.public.waitForTransactionReceipt({ hash });
  return account;
}

/** Sets the Safe's RINGK balance directly (OpenZeppelin's ERC20 keeps balances in a mapping at slot 0). */
async function setSafeBalance(amount: bigint): Promise<void> {
  const slot = keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [safe, 0n]));
  await chain.public.request({ method: 'anvil_setStorageAt', params: [token, slot, toHex(amount, { size: 32 })] } as never);
  expect(await tokenBalance(chain, token, safe)).toBe(amount);
}

const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000';

async function fundSafe(amount: bigint): Promise<void> {
  const hash = await chain.wallet.writeContract({
    address: token,
    abi: erc20Abi,
    functionName: 'transfer',
    args: [safe, amount],
    account: chain.account,
    chain: chain.chain,
  });
  await chain.public.waitForTransactionReceipt({ hash });
}

/** The wallet worker as a process until `done` holds or it dies. */
async function runWorker(args: string[], done: () => Promise<boolean>): Promise<{ code: number | null; signal: string | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/wallet/main.ts', ...args], {
    env: {
      ...process.env,
      ...databaseVariables(db),
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'test',
      LOG_LEVEL: 'warn',
      CHAIN_RPC_URL: anvil.rpcUrl,
      WALLET_CONFIRMATIONS: '1',
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
  for (const deadline = Date.now() + 90_000; ;) {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
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
