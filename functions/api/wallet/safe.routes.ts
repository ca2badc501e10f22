// Safe treasuries at the gateway (migration 20261205001110): a member registers their own wallet address, a
// wallet.manage holder names the team's Safe on a chain, an approver reads a Safe payout's SafeTx (EIP-712
// typed data and hash) and approves it with their signature of it. The signature must recover to a wallet the
// approver registered in the team; the wallet worker executes once the Safe's owners' signatures reach the
// Safe's threshold (it also drops signatures of addresses that are not owners on chain — the gateway never
// calls a chain node).
import { z } from '@hono/zod-openapi';
import type { Address, Hex } from 'viem';
import { safeSigner, safeTransactionHash, safeTransactionOf } from '../../_shared/safe-transaction.ts';
import { ApiError, conflict, forbidden, notFound } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, securedRoute, Uuid } from '../core/route.ts';
import { findPayout, type PayoutRow } from './payouts.queries.ts';

const EvmAddress = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, { message: 'must be an EVM address: 0x and 40 hexadecimal digits' })
  .transform((value) => value.toLowerCase())
  .openapi({ type: 'string', example: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8' });
const ChainId = z
  .number()
  .int({ message: 'must be a chain id' })
  .min(1)
  .max(2 ** 48);
const TeamPath = z.strictObject({ teamId: Uuid.openapi({ param: { name: 'teamId', in: 'path' } }) });
const PayoutPath = TeamPath.extend({ payoutId: Uuid.openapi({ param: { name: 'payoutId', in: 'path' } }) });

const MemberWalletBody = z.strictObject({ chain_id: ChainId, address: EvmAddress }).openapi('MemberWalletRequest', {
  example: { chain_id: 31337, address: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8' },
});
const MemberWallet = z.object({ id: Uuid, chain_id: z.number().int(), address: z.string() }).openapi('MemberWallet');
const SafeTreasuryBody = z.strictObject({ chain_id: ChainId, safe_address: EvmAddress }).openapi('SafeTreasury', {
  example: { chain_id: 31337, safe_address: '0x5fbdb2315678afecb367f032d93f642f64180aa3' },
});
const SafeTransaction = z
  .object({
    payout_id: Uuid,
    chain_id: z.number().int(),
    safe_address: z.string(),
    safe_nonce: z.string().openapi({ description: 'Decimal string' }),
    safe_tx_hash: z.string().openapi({ description: 'What the owners sign (EIP-712 hash of typed_data)' }),
    typed_data: z.object({
      domain: z.object({ chainId: z.number().int(), verifyingContract: z.string() }),
      types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
      primaryType: z.literal('SafeTx'),
      message: z.record(z.string(), z.union([z.string(), z.number()])).openapi({ description: 'uint256 fields as decimal strings' }),
    }),
  })
  .openapi('SafeTransaction');
const SafeApprovalBody = z
  .strictObject({
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]{130}$/, { message: 'must be a 65-byte signature: 0x and 130 hexadecimal digits (r, s, v)' }),
  })
  .openapi('SafeApproval', { example: { signature: `0x${'ab'.repeat(64)}1b` } });
const ApprovedPayout = z
  .object({ id: Uuid, status: z.string(), approvals: z.array(Uuid), approval_threshold: z.number().int(), signer_address: z.string() })
  .openapi('SafePayoutApproval');

const registerWallet = securedRoute('wallet.read', {
  method: 'post',
  path: '/teams/{teamId}/wallet/member-wallets',
  tags: ['wallet'],
  summary: 'Register your own wallet address in the team (a Safe owner approves with signatures made by it)',
  request: { params: TeamPath, body: jsonBody(MemberWalletBody, 'Your address on a chain') },
  responses: { 201: jsonResponse(MemberWallet, 'The registered wallet (also when it was already yours)'), ...errorResponses(404, 409) },
});
const setSafe = securedRoute('wallet.manage', {
  method: 'post',
  path: '/teams/{teamId}/wallet/safe',
  tags: ['wallet'],
  summary: "Make a Safe the team's treasury on a chain: payouts requested there are paid by it",
  request: { params: TeamPath, body: jsonBody(SafeTreasuryBody, 'The Safe') },
  responses: { 200: jsonResponse(SafeTreasuryBody, 'The Safe now in force'), ...errorResponses(404) },
});
const readSafeTransaction = securedRoute('wallet.read', {
  method: 'get',
  path: '/teams/{teamId}/payouts/{payoutId}/safe-transaction',
  tags: ['wallet'],
  summary: "A Safe payout's SafeTx: the EIP-712 typed data and hash an approver signs",
  request: { params: PayoutPath },
  responses: { 200: jsonResponse(SafeTransaction, 'The SafeTx'), ...errorResponses(400, 404, 409) },
});
const approveSafe = securedRoute('payout.approve', {
  method: 'post',
  path: '/teams/{teamId}/payouts/{payoutId}/approve-safe',
  tags: ['wallet'],
  summary: 'Approve a Safe payout with your EIP-712 signature of its SafeTx, made by a wallet you registered',
  request: { params: PayoutPath, body: jsonBody(SafeApprovalBody, 'The signature') },
  responses: { 200: jsonResponse(ApprovedPayout, 'The payout'), ...errorResponses(400, 403, 404, 409, 422) },
});

const payoutNotFound = () =>
  notFound('payout_not_found', "No payout with this id in this team; list the team's payouts with GET /api/teams/{teamId}/payouts.");
const notSafe = () =>
  conflict('not_a_safe_payout', "This payout is paid by the team's hot signer, not a Safe; approve it with POST …/approve.");

function safePayoutOf(payout: PayoutRow) {
  if (!payout.safe_address || payout.safe_nonce === null) throw notSafe();
  return {
    chainId: payout.chain_id,
    safe: payout.safe_address as Address,
    safeNonce: BigInt(payout.safe_nonce),
    token: payout.token as Address,
    recipient: payout.recipient as Address,
    amount: BigInt(payout.amount),
  };
}

export const safeRoutes = createRouter()
  .openapi(registerWallet, async (c) => {
    const { teamId } = c.req.valid('param');
    const { chain_id: chainId, address } = c.req.valid('json');
    const id = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      const [row] = await tx<{ id: string | null }[]>`select app.register_member_wallet(${teamId}, ${chainId}, ${address}) as id`;
      return row!.id;
    });
    if (!id) throw conflict('wallet_taken', 'This address is registered to another member of the team; register an address of your own.');
    return c.json({ id, chain_id: chainId, address }, 201);
  })
  .openapi(setSafe, async (c) => {
    const { teamId } = c.req.valid('param');
    const { chain_id: chainId, safe_address: safe } = c.req.valid('json');
    await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      await tx`select app.set_safe_treasury(${teamId}, ${chainId}, ${safe})`;
    });
    return c.json({ chain_id: chainId, safe_address: safe }, 200);
  })
  .openapi(readSafeTransaction, async (c) => {
    const { teamId, payoutId } = c.req.valid('param');
    const payout = await inRequestTransaction(c, (tx) => findPayout(tx, teamId, payoutId));
    if (!payout) throw payoutNotFound();
    const safePayout = safePayoutOf(payout);
    const typed = safeTransactionOf(safePayout);
    const message = Object.fromEntries(Object.entries(typed.message).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]));
    return c.json(
      {
        payout_id: payout.id,
        chain_id: payout.chain_id,
        safe_address: safePayout.safe,
        safe_nonce: safePayout.safeNonce.toString(),
        safe_tx_hash: safeTransactionHash(safePayout),
        typed_data: {
          domain: typed.domain,
          types: { SafeTx: typed.types.SafeTx.map((f) => ({ ...f })) },
          primaryType: 'SafeTx' as const,
          message,
        },
      },
      200,
    );
  })
  .openapi(approveSafe, async (c) => {
    const { teamId, payoutId } = c.req.valid('param');
    const { signature } = c.req.valid('json');
    const result = await inRequestTransaction(c, async (tx) => {
      const payout = await findPayout(tx, teamId, payoutId);
      if (!payout) throw payoutNotFound();
      const signer = await safeSigner(safeTransactionHash(safePayoutOf(payout)), signature.toLowerCase() as Hex);
      if (!signer)
        throw new ApiError(
          422,
          'invalid_signature',
          'This is not an EIP-712 signature of the payout’s SafeTx; sign typed_data from GET …/safe-transaction with eth_signTypedData_v4.',
        );
      const [row] = await tx<
        { outcome: string }[]
      >`select app.approve_safe_payout(${payoutId}, ${signer}, ${signature.toLowerCase()}) as outcome`;
      switch (row!.outcome) {
        case 'not_found':
          throw payoutNotFound();
        case 'not_safe':
          throw notSafe();
        case 'not_your_wallet':
          throw forbidden(
            'signer_not_your_wallet',
            `The signature recovers to ${signer}, which is not a wallet you registered in this team: sign the safe_tx_hash of GET …/safe-transaction with your own wallet, registered with POST /api/teams/{teamId}/wallet/member-wallets.`,
          );
        case 'not_requested':
          throw conflict('payout_not_requested', 'Only a requested payout can be approved; this one is past that (see its status).');
        case 'own_payout':
          throw forbidden('own_payout', 'You requested this payout; another approver must approve it (four eyes on every payout).');
        case 'already_approved':
          throw conflict('already_approved', 'You already approved this payout; it waits for approvals from other people.');
        default: {
          const updated = (await findPayout(tx, teamId, payoutId))!;
          return { ...updated, signer };
        }
      }
    });
    return c.json(
      {
        id: result.id,
        status: result.status,
        approvals: result.approvals,
        approval_threshold: result.approval_threshold,
        signer_address: result.signer,
      },
      200,
    );
  });
