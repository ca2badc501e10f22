// Executes approved payouts on chain, exactly once, whatever crashes:
//   approved  → (row locked; signer's nonce serialised) simulate the ERC-20 transfer; if it would revert, failed
//               with the reason (a Safe payout stays approved, with the reason: its signed SafeTx is payable
//               until the Safe uses its nonce); else sign it with the next nonce and RECORD nonce + signed tx + hash → submitted
//   submitted → no receipt: broadcast the recorded signed tx (again, after a crash: same bytes, same hash, so
//               the chain can include it at most once); receipt: failed if reverted (a Safe payout: recorded with
//               the transaction that executed its SafeTx, or signed again while the SafeTx is unexecuted),
//               else confirmed after WALLET_CONFIRMATIONS blocks.
// A payout is never signed twice: the signed transaction is written before it is ever sent, and the database
// refuses to replace it (migration 20261205000700). Chain errors leave the payout where it was, with last_error.
// A payout of a team whose treasury is a Safe (migration 20261205001110) goes the same way, only the call differs:
// execTransaction on the Safe with the approvers' packed SafeTx signatures (the hot signer only pays the gas),
// once the signatures of the Safe's owners reach the Safe's own threshold and the Safe's nonce is the payout's.
// A chain is its genesis block, not its id (migration 20261205001100): nonces are drawn from the payouts of the
// same genesis, and a payout submitted on a chain that was since reset fails (its transaction cannot confirm).
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeFunctionData,
  erc20Abi,
  keccak256,
  parseAbiItem,
  serializeTransaction,
  TransactionReceiptNotFoundError,
  type Abi,
  type Address,
  type Hex,
} from 'viem';
import type { TransactionSql } from 'postgres';
import type { Sql } from '../lib/postgres.ts';
import {
  packSafeSignatures,
  safeSigner,
  safeTransactionHash,
  safeTransactionOf,
  type SafePayout,
} from '../../functions/_shared/safe-transaction.ts';
import { readGenesis, type ChainClients } from './chain.ts';
import { readSafe, safeAbi } from './safe-treasury.ts';
import type { ChainStep, WalletMetrics } from './wallet-metrics.ts';

export type CrashPoint = 'after-record' | 'after-broadcast';

export interface ExecutorOptions {
  confirmations: number;
  /** Test hook: the process SIGKILLs itself at this point, to prove recovery (workers/wallet/main.ts --crash-after). */
  crashAt?: CrashPoint;
  log?: (line: Record<string, unknown>) => void;
  metrics?: WalletMetrics;
}

interface PayoutToRun {
  id: string;
  status: 'approved' | 'submitted';
  token: Address;
  recipient: Address;
  amount: string;
  signed_tx: Hex | null;
  tx_hash: Hex | null;
  chain_genesis: Hex | null;
  safe_address: Address | null;
  safe_nonce: string | null;
}

/** The contract call that pays a payout: an ERC-20 transfer from the hot signer, or execTransaction on a Safe. */
interface PayoutCall {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  gas: bigint;
}

/** The Safe's event for an executed SafeTx (safe-contracts 1.4.1: the SafeTx hash is indexed). */
const EXECUTION_SUCCESS = parseAbiItem('event ExecutionSuccess(bytes32 indexed txHash, uint256 payment)');

/** last_error of a payout whose chain was reset under it. */
export const CHAIN_RESET_ERROR =
  'the chain was reset (its genesis block changed) after this payout was sent, so its transaction can never confirm; nothing was paid on the current chain — request the payout again';

const TRANSFER_GAS = 120_000n;
// execTransaction: signature checks and the inner transfer (measured ~95k on anvil), with headroom
const SAFE_EXEC_GAS = 300_000n;
const PAYOUT_COLUMNS =
  'id, status, token, recipient, amount::text as amount, signed_tx, tx_hash, chain_genesis, safe_address, safe_nonce::text';

function crashIfAsked(options: ExecutorOptions, point: CrashPoint): void {
  if (options.crashAt === point) process.kill(process.pid, 'SIGKILL');
}

/** A short, single-line reason of a chain error, for last_error. */
function reasonOf(error: unknown): string {
  if (error instanceof BaseError) {
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) return `the transfer would revert: ${revert.reason ?? revert.shortMessage}`;
    return error.shortMessage.slice(0, 500);
  }
  return String((error as Error)?.message ?? error).slice(0, 500);
}

/** Whether the chain refused the transfer itself (it would revert), as opposed to being unreachable. */
function isRevert(error: unknown): boolean {
  return (
    error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionRevertedError) instanceof ContractFunctionRevertedError
  );
}

/** One approved payout in a dry run: sent as it stands, refused by the chain, or not ready (a Safe's signatures). */
export type DryRunOutcome =
  | { payout_id: string; outcome: 'would send'; to: Address; call: string }
  | { payout_id: string; outcome: 'would wait' | 'would fail' | 'would record' | 'chain error'; reason: string };

export class PayoutExecutor {
  constructor(
    private readonly sql: Sql,
    private readonly chain: ChainClients,
    private readonly options: ExecutorOptions,
  ) {}

  /** Runs one call to the chain node, counting its failure by step (a revert is the chain's answer, not an error). */
  private async onChain<T>(step: ChainStep, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!isRevert(error) && !(error instanceof TransactionReceiptNotFoundError)) this.options.metrics?.chainErrors.inc({ step });
      throw error;
    }
  }

  /** One pass over the payouts in flight on this chain; returns how many it moved on. */
  async runOnce(): Promise<number> {
    const due = await this.sql<{ id: string; status: string }[]>`
      select id, status from public.payouts
      where status in ('approved', 'submitted') and chain_id = ${this.chain.chain.id}
      order by (status = 'submitted') desc, updated_at
      limit 50`;
    let moved = 0;
    for (const payout of due) {
      try {
        moved += payout.status === 'approved' ? await this.submit(payout.id) : await this.follow(payout.id);
      } catch (error) {
        await this.noteError(payout.id, error);
      }
    }
    return moved;
  }

  /** What one pass would do with the approved payouts of this chain, without signing, sending or writing
      anything: the transfer (or the Safe's execTransaction) is simulated on the chain node. */
  async dryRun(): Promise<DryRunOutcome[]> {
    const approved = await this.sql<PayoutToRun[]>`
      select ${this.sql.unsafe(PAYOUT_COLUMNS)} from public.payouts
      where status = 'approved' and chain_id = ${this.chain.chain.id}
      order by updated_at
      limit 50`;
    const outcomes: DryRunOutcome[] = [];
    for (const payout of approved) {
      // read in a transaction that is rolled back: the Safe check reads signatures, nothing may change
      const outcome = await this.sql
        .begin(async (tx) => {
          const call = payout.safe_address ? await this.safeCall(tx, payout) : this.transferCall(payout);
          if ('wait' in call) return { payout_id: payout.id, outcome: 'would wait', reason: call.wait } as const;
          if ('fail' in call) return { payout_id: payout.id, outcome: 'would fail', reason: call.fail } as const;
          if ('executedIn' in call)
            return { payout_id: payout.id, outcome: 'would record', reason: `its SafeTx was executed in ${call.executedIn}` } as const;
          try {
            await this.chain.public.simulateContract({
              address: call.address,
              abi: call.abi,
              functionName: call.functionName,
              args: call.args,
              account: this.chain.account,
            } as never);
            return { payout_id: payout.id, outcome: 'would send', to: call.address, call: call.functionName } as const;
          } catch (error) {
            if (!isRevert(error)) throw error;
            return { payout_id: payout.id, outcome: 'would fail', reason: reasonOf(error) } as const;
          }
        })
        .catch((error: unknown) => ({ payout_id: payout.id, outcome: 'chain error', reason: reasonOf(error) }) as const);
      outcomes.push(outcome);
    }
    return outcomes;
  }

  /** approved → submitted: sign with the signer's next nonce and record it, all under the row lock; then send.
      From `submitted`: a Safe payout whose recorded execTransaction reverted while its SafeTx stays payable is
      signed again in its place (migration 20261205001610; the Safe's nonce keeps it to one execution). */
  private async submit(payoutId: string, from: 'approved' | 'submitted' = 'approved'): Promise<number> {
    const signer = this.chain.account.address.toLowerCase();
    const recorded = await this.sql.begin(async (tx) => {
      const [payout] = await tx<PayoutToRun[]>`
        select ${tx.unsafe(PAYOUT_COLUMNS)} from public.payouts
        where id = ${payoutId} and status = ${from} for update skip locked`;
      if (payout && from === 'submitted' && !payout.safe_address) return null; // a transfer is never signed twice
      if (!payout) return null; // another worker has it, or it was cancelled
      const call = payout.safe_address ? await this.safeCall(tx, payout) : this.transferCall(payout);
      if ('wait' in call) {
        // a Safe payout that cannot execute yet: it stays approved, and says why
        await tx`update public.payouts set last_error = ${call.wait} where id = ${payout.id}`;
        return null;
      }
      if ('fail' in call) {
        await tx`update public.payouts set status = 'failed', last_error = ${call.fail} where id = ${payout.id}`;
        this.options.metrics?.failed.inc({ reason: 'refused' });
        return null;
      }
      if ('executedIn' in call) {
        await this.recordOutsideExecution(tx, payout, call.executedIn);
        return null;
      }
      // one nonce sequence per signer and chain, however many workers run
      await tx`select pg_advisory_xact_lock(hashtextextended(${`wallet-nonce/${this.chain.chain.id}/${signer}`}, 0))`;
      try {
        await this.onChain('simulate', () =>
          this.chain.public.simulateContract({
            address: call.address,
            abi: call.abi,
            functionName: call.functionName,
            args: call.args,
            account: this.chain.account,
          } as never),
        );
      } catch (error) {
        if (!isRevert(error)) throw error;
        if (payout.safe_address) {
          // its owners' signatures keep the SafeTx payable by anyone until the Safe uses its nonce: failing it here
          // would not stop it (migration 20261205001600); it stays where it is and is tried again on the next pass
          const reason = `${reasonOf(error)}; the signed SafeTx stays payable, so the payout is retried on every pass: fund the Safe, or reject nonce ${payout.safe_nonce} in the Safe`;
          await tx`update public.payouts set last_error = ${reason}, attempts = attempts + 1 where id = ${payout.id}`;
          this.options.log?.({ msg: 'Safe payout refused by the chain; retried later', payout_id: payout.id, reason: reasonOf(error) });
          return null;
        }
        await tx`update public.payouts set status = 'failed', last_error = ${reasonOf(error)}, attempts = attempts + 1
                 where id = ${payout.id}`;
        this.options.metrics?.failed.inc({ reason: 'refused' });
        this.options.log?.({ msg: 'payout refused by the chain', payout_id: payout.id, reason: reasonOf(error) });
        return null;
      }
      // only nonces recorded on this very chain count: a reset chain (same id, new genesis) starts again from 0
      const genesis = await this.onChain('sign', () => this.currentGenesis());
      const [known] = await tx<{ next: string | null }[]>`
        select (max(nonce) + 1)::text as next from public.payouts
        where chain_id = ${this.chain.chain.id} and chain_genesis = ${genesis} and signer = ${signer}`;
      const onChain = await this.onChain('sign', () =>
        this.chain.public.getTransactionCount({ address: this.chain.account.address, blockTag: 'pending' }),
      );
      const nonce = Math.max(Number(known?.next ?? 0), onChain);
      const fees = await this.onChain('sign', () => this.chain.public.estimateFeesPerGas());
      const signed = await this.chain.account.signTransaction({
        type: 'eip1559',
        chainId: this.chain.chain.id,
        nonce,
        to: call.address,
        data: encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args } as never),
        gas: call.gas,
        // headroom, so the same signed transaction is still accepted when re-sent later
        maxFeePerGas: fees.maxFeePerGas * 3n,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      });
      const hash = keccak256(signed);
      await tx`update public.payouts
               set status = 'submitted', signer = ${signer}, nonce = ${nonce}, signed_tx = ${signed}, tx_hash = ${hash},
                   chain_genesis = ${genesis},
                   attempts = attempts + 1, last_error = null
               where id = ${payout.id}`;
      return { id: payout.id, signed, hash };
    });
    if (!recorded) return 0;
    this.options.metrics?.submitted.inc();
    crashIfAsked(this.options, 'after-record');
    await this.broadcast(recorded.signed);
    crashIfAsked(this.options, 'after-broadcast');
    this.options.log?.({ msg: 'payout sent', payout_id: recorded.id, tx_hash: recorded.hash });
    return 1;
  }

  /** The transaction in which the Safe executed the SafeTx `hash`, if it did. */
  private async safeTxExecution(safe: Address, hash: Hex): Promise<Hex | undefined> {
    const executions = await this.onChain('simulate', () =>
      this.chain.public.getLogs({ address: safe, event: EXECUTION_SUCCESS, args: { txHash: hash }, fromBlock: 0n }),
    );
    return executions[0]?.transactionHash ?? undefined;
  }

  /** A Safe payout as the SafeTx its approvers signed (functions/_shared/safe-transaction.ts). */
  private safePayoutOf(payout: PayoutToRun): SafePayout {
    return {
      chainId: this.chain.chain.id,
      safe: payout.safe_address!,
      safeNonce: BigInt(payout.safe_nonce!),
      token: payout.token,
      recipient: payout.recipient,
      amount: BigInt(payout.amount),
    };
  }

  /**
   * → submitted with the transaction in which someone else executed the payout's SafeTx (from approved, or from
   * submitted when that transaction beat the recorded one, which then reverted: migration 20261205001610): it is
   * the one the payout was paid with, so it is recorded as ours would be (its sender, nonce, signed bytes and
   * hash) and followed to its confirmations like any other. Marking the payout failed instead would invite a
   * retry that pays the recipient twice. Bytes that do not hash back to the transaction leave it with last_error.
   */
  private async recordOutsideExecution(tx: Sql | TransactionSql, payout: PayoutToRun, hash: Hex): Promise<void> {
    const sent = await this.onChain('receipt', () => this.chain.public.getTransaction({ hash }));
    const raw = serializeTransaction(
      { ...sent, data: sent.input } as never,
      {
        r: sent.r,
        s: sent.s,
        v: sent.v,
        yParity: sent.yParity,
      } as never,
    );
    if (keccak256(raw) !== hash) {
      const reason = `the Safe executed this payout's SafeTx in transaction ${hash}, outside the wallet worker, which could not read it back; check it on the explorer before anything else`;
      await tx`update public.payouts set last_error = ${reason} where id = ${payout.id}`;
      return;
    }
    const genesis = await this.onChain('sign', () => this.currentGenesis());
    await tx`update public.payouts
             set status = 'submitted', signer = ${sent.from.toLowerCase()}, nonce = ${sent.nonce}, signed_tx = ${raw}, tx_hash = ${hash},
                 chain_genesis = ${genesis}, last_error = null
             where id = ${payout.id}`;
    this.options.log?.({ msg: 'Safe payout executed outside the wallet worker; following it', payout_id: payout.id, tx_hash: hash });
  }

  /** The chain's genesis hash as the node says now; a change (a node reset under a running worker) is kept. */
  private async currentGenesis(): Promise<Hex> {
    const genesis = await readGenesis(this.chain.public);
    if (genesis !== this.chain.genesisHash) {
      this.options.log?.({ msg: 'the chain was reset: another genesis block', was: this.chain.genesisHash, now: genesis });
      this.chain.genesisHash = genesis;
    }
    return genesis;
  }

  /** Whether the payout was signed for another chain than the node's (null: recorded before chain identity). */
  private async signedForAnotherChain(payout: PayoutToRun, fresh: boolean): Promise<boolean> {
    if (payout.chain_genesis === null) return false;
    const genesis = fresh ? await this.onChain('receipt', () => this.currentGenesis()) : this.chain.genesisHash;
    return payout.chain_genesis !== genesis;
  }

  /** submitted → failed for a payout whose chain is gone: its transaction is never sent to the new chain. */
  private async failOnResetChain(payout: PayoutToRun): Promise<number> {
    const failed = await this.sql`update public.payouts set status = 'failed', last_error = ${CHAIN_RESET_ERROR}
                                  where id = ${payout.id} and status = 'submitted'`;
    if (failed.count) this.options.metrics?.failed.inc({ reason: 'chain_reset' });
    this.options.log?.({ msg: 'payout failed: its chain was reset', payout_id: payout.id, chain_genesis: payout.chain_genesis });
    return 1;
  }

  private transferCall(payout: PayoutToRun): PayoutCall {
    const args = [payout.recipient, BigInt(payout.amount)] as const;
    return { address: payout.token, abi: erc20Abi, functionName: 'transfer', args, gas: TRANSFER_GAS };
  }

  /** execTransaction of a Safe payout, or why it cannot run yet (too few owner signatures, an earlier Safe nonce),
      or the transaction in which someone else already executed its SafeTx. */
  private async safeCall(
    tx: TransactionSql,
    payout: PayoutToRun,
  ): Promise<PayoutCall | { wait: string } | { fail: string } | { executedIn: Hex }> {
    const safe = payout.safe_address!;
    const safeNonce = BigInt(payout.safe_nonce!);
    const hash = safeTransactionHash(this.safePayoutOf(payout));
    const state = await this.onChain('simulate', () => readSafe(this.chain, safe));
    if (state.nonce < safeNonce)
      return { wait: `waits for the Safe's earlier transactions: the Safe is at nonce ${state.nonce}, this payout has ${safeNonce}` };
    if (state.nonce > safeNonce) {
      // the nonce is used: by this very SafeTx (an owner executed it with the approvers' signatures, say from a
      // Safe app while this worker was down: the recipient is paid), or by another transaction (a rejection)
      const executedIn = await this.safeTxExecution(safe, hash);
      if (executedIn) return { executedIn };
      return {
        fail: `the Safe already used nonce ${safeNonce} for another transaction, so this payout's SafeTx can never execute; request it again`,
      };
    }
    const stored = await tx<{ signer_address: Address; signature: Hex }[]>`
      select signer_address, signature from public.payout_approvals where payout_id = ${payout.id} and signature is not null`;
    // only signatures of current owners that recover to their signer count (the gateway checked them at approval)
    const valid: { signer: Address; signature: Hex }[] = [];
    for (const s of stored) {
      if (state.owners.includes(s.signer_address) && (await safeSigner(hash, s.signature)) === s.signer_address)
        valid.push({ signer: s.signer_address, signature: s.signature });
    }
    if (valid.length < state.threshold)
      return { wait: `waits for signatures: ${valid.length} of the Safe's ${state.threshold} owner signatures so far` };
    const safeTx = safeTransactionOf(this.safePayoutOf(payout)).message;
    const args = [
      safeTx.to,
      safeTx.value,
      safeTx.data,
      safeTx.operation,
      safeTx.safeTxGas,
      safeTx.baseGas,
      safeTx.gasPrice,
      safeTx.gasToken,
      safeTx.refundReceiver,
      packSafeSignatures(valid.slice(0, state.threshold)),
    ] as const;
    return { address: safe, abi: safeAbi, functionName: 'execTransaction', args, gas: SAFE_EXEC_GAS };
  }

  /** Sends a recorded signed transaction; "already known" means an earlier send got through. */
  private async broadcast(signed: Hex): Promise<void> {
    try {
      await this.onChain('broadcast', () => this.chain.public.sendRawTransaction({ serializedTransaction: signed }));
    } catch (error) {
      if (/already known|already imported|known transaction/i.test(reasonOf(error))) return;
      throw error;
    }
  }

  /** submitted → confirmed | failed, or send the recorded transaction again when the chain does not have it. */
  private async follow(payoutId: string): Promise<number> {
    const [payout] = await this.sql<PayoutToRun[]>`
      select ${this.sql.unsafe(PAYOUT_COLUMNS)} from public.payouts
      where id = ${payoutId} and status = 'submitted'`;
    if (!payout?.tx_hash || !payout.signed_tx) return 0;
    // signed for a chain that is gone: checked against the node itself before it is failed
    if ((await this.signedForAnotherChain(payout, false)) && (await this.signedForAnotherChain(payout, true)))
      return this.failOnResetChain(payout);
    let receipt;
    try {
      receipt = await this.onChain('receipt', () => this.chain.public.getTransactionReceipt({ hash: payout.tx_hash! }));
    } catch (error) {
      if (!(error instanceof TransactionReceiptNotFoundError)) throw error;
      // not mined: pending, or lost (a crash before the send, a restarted node); the same bytes again, unless
      // the node is another chain now (its nonces start again: the old bytes could pay there, or wait forever)
      if (await this.signedForAnotherChain(payout, true)) return this.failOnResetChain(payout);
      await this.broadcast(payout.signed_tx);
      return 0;
    }
    if (receipt.status === 'reverted') {
      if (payout.safe_address) {
        // another transaction may have executed the SafeTx first (then ours reverts): the payout is paid by it
        const executedIn = await this.safeTxExecution(payout.safe_address, safeTransactionHash(this.safePayoutOf(payout)));
        if (executedIn && executedIn !== payout.tx_hash) {
          await this.recordOutsideExecution(this.sql, payout, executedIn);
          return 0;
        }
        // not executed: its SafeTx stays payable until the Safe uses the nonce, so it is tried again (signed anew,
        // or left with the reason when the chain would still refuse it), or failed once the nonce is used
        return this.submit(payout.id, 'submitted');
      }
      const failed = await this.sql`update public.payouts set status = 'failed', block_number = ${Number(receipt.blockNumber)},
                       last_error = 'the transfer was mined but reverted' where id = ${payout.id} and status = 'submitted'`;
      if (failed.count) this.options.metrics?.failed.inc({ reason: 'reverted' });
      return 1;
    }
    const head = await this.onChain('receipt', () => this.chain.public.getBlockNumber());
    const confirmations = Number(head - receipt.blockNumber + 1n);
    const done = confirmations >= this.options.confirmations;
    const [updated] = await this.sql<{ since_approval: number | null }[]>`
      update public.payouts
      set block_number = ${Number(receipt.blockNumber)}, confirmations = ${confirmations},
          status = ${done ? 'confirmed' : 'submitted'}, last_error = null
      where id = ${payout.id} and status = 'submitted'
      returning extract(epoch from clock_timestamp() - approved_at)::float8 as since_approval`;
    if (done && updated) {
      this.options.metrics?.confirmed.inc();
      if (updated.since_approval !== null) this.options.metrics?.confirmationSeconds.observe(updated.since_approval);
    }
    if (done) this.options.log?.({ msg: 'payout confirmed', payout_id: payout.id, block: Number(receipt.blockNumber) });
    return done ? 1 : 0;
  }

  private async noteError(payoutId: string, error: unknown): Promise<void> {
    const reason = reasonOf(error);
    this.options.log?.({ msg: 'payout step failed; retried on the next pass', payout_id: payoutId, error: reason });
    await this.sql`update public.payouts set last_error = ${reason} where id = ${payoutId} and status in ('approved', 'submitted')`.catch(
      () => undefined,
    );
  }
}
