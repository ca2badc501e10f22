// Payouts from a team's treasury: request one (with an Idempotency-Key), list and read them, approve (distinct
// approvers up to the team's threshold), cancel before it is sent, and set the threshold. The wallet consumer
// (workers/wallet) sends approved payouts on chain; the database enforces the state machine.
import { z } from '@hono/zod-openapi';
import { ApiError, conflict, forbidden, notFound } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, PageLimit, securedRoute, Text, Timestamp, Uuid } from '../core/route.ts';
import {
  approvePayout,
  cancelPayout,
  findPayout,
  listPayouts,
  requestPayout,
  setApprovalThreshold,
  type PayoutRow,
} from './payouts.queries.ts';

const STATUSES = ['requested', 'approved', 'submitted', 'confirmed', 'failed', 'cancelled'] as const;
const Address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, { message: 'must be an EVM address: 0x and 40 hexadecimal digits' })
  .transform((value) => value.toLowerCase())
  .openapi({ type: 'string', example: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8' });
/** Base units as a decimal string: a JSON number cannot hold a uint256 exactly. */
export const BaseUnits = z
  .string()
  .regex(/^[1-9][0-9]{0,76}$/, { message: 'must be a positive whole number of base units, as a decimal string such as "1000000"' })
  .openapi({ example: '1000000000000000000' });

const Payout = z
  .object({
    id: Uuid,
    team_id: Uuid,
    requested_by: Uuid.nullable(),
    chain_id: z.number().int(),
    token: z.string(),
    recipient: z.string(),
    amount: z.string().openapi({ description: 'Base units, as a decimal string' }),
    memo: z.string(),
    status: z.enum(STATUSES),
    approvals: z.array(Uuid).openapi({ description: 'Who approved, in order' }),
    approval_threshold: z.number().int(),
    tx_hash: z.string().nullable(),
    nonce: z.number().int().nullable(),
    block_number: z.number().int().nullable(),
    confirmations: z.number().int(),
    last_error: z.string().nullable(),
    safe_address: z.string().nullable().openapi({ description: 'The Safe that pays it (null: the hot signer)' }),
    safe_nonce: z.string().nullable().openapi({ description: 'Its Safe nonce, a decimal string' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Payout');

const RequestPayoutBody = z
  .strictObject({
    chain_id: z
      .number()
      .int({ message: 'must be a chain id' })
      .min(1)
      .max(2 ** 48),
    token: Address,
    recipient: Address,
    amount: BaseUnits,
    memo: Text(280).default(''),
  })
  .openapi('RequestPayout', {
    example: {
      chain_id: 31337,
      token: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
      recipient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
      amount: '1000000000000000000',
      memo: 'Solar roof, March',
    },
  });
/** Idempotency-Key of a request that moves value (payouts, gifts): same key + body → same answer. */
export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{8,128}$/, { message: 'must be 8–128 characters of letters, digits, "_", ".", ":" or "-" (a UUID is good)' })
    .openapi({ param: { name: 'idempotency-key', in: 'header' }, example: '0f6d2c1e-6a0b-4b7b-9f0e-3c1d2b4a5e6f' }),
});
const TeamPath = z.strictObject({ teamId: Uuid.openapi({ param: { name: 'teamId', in: 'path' } }) });
const PayoutPath = TeamPath.extend({ payoutId: Uuid.openapi({ param: { name: 'payoutId', in: 'path' } }) });
const ListQuery = z.strictObject({ status: z.enum(STATUSES).optional(), limit: PageLimit });
const ThresholdBody = z
  .strictObject({ approval_threshold: z.number().int({ message: 'must be a whole number' }).min(1).max(20) })
  .openapi('PayoutApprovalThreshold', { example: { approval_threshold: 2 } });

const request = securedRoute('payout.propose', {
  method: 'post',
  path: '/teams/{teamId}/payouts',
  tags: ['wallet'],
  summary: 'Request a payout from the treasury; the same Idempotency-Key and body give the same payout back',
  request: { params: TeamPath, headers: IdempotencyHeader, body: jsonBody(RequestPayoutBody, 'The payout') },
  responses: {
    201: jsonResponse(Payout, 'The payout (also for a replay of the same request: header Idempotent-Replayed: true)'),
    ...errorResponses(404, 422),
  },
});
const list = securedRoute('wallet.read', {
  method: 'get',
  path: '/teams/{teamId}/payouts',
  tags: ['wallet'],
  summary: "The team's payouts, newest first, optionally of one status",
  request: { params: TeamPath, query: ListQuery },
  responses: { 200: jsonResponse(z.object({ items: z.array(Payout) }), 'The payouts'), ...errorResponses(400, 404) },
});
const read = securedRoute('wallet.read', {
  method: 'get',
  path: '/teams/{teamId}/payouts/{payoutId}',
  tags: ['wallet'],
  summary: 'One payout with its approvals and chain state',
  request: { params: PayoutPath },
  responses: { 200: jsonResponse(Payout, 'The payout'), ...errorResponses(400, 404) },
});
const approve = securedRoute('payout.approve', {
  method: 'post',
  path: '/teams/{teamId}/payouts/{payoutId}/approve',
  tags: ['wallet'],
  summary: 'Approve a requested payout (not one’s own); the threshold’s last approval makes it approved',
  request: { params: PayoutPath },
  responses: { 200: jsonResponse(Payout, 'The payout'), ...errorResponses(400, 404, 409) },
});
const cancel = securedRoute('payout.propose', {
  method: 'post',
  path: '/teams/{teamId}/payouts/{payoutId}/cancel',
  tags: ['wallet'],
  summary: 'Cancel a payout not yet sent (its requester, or a holder of payout.approve)',
  request: { params: PayoutPath },
  responses: { 200: jsonResponse(Payout, 'The cancelled payout'), ...errorResponses(400, 404, 409) },
});
const setThreshold = securedRoute('wallet.manage', {
  method: 'post',
  path: '/teams/{teamId}/wallet/approval-threshold',
  tags: ['wallet'],
  summary: 'Set how many distinct approvals a payout needs',
  request: { params: TeamPath, body: jsonBody(ThresholdBody, 'The threshold') },
  responses: { 200: jsonResponse(ThresholdBody, 'The threshold now in force'), ...errorResponses(404) },
});

/** An approved Safe payout: its owners' signatures make its SafeTx payable by anyone until the Safe uses its
    nonce (migration 20261205001600), so only the Safe can call it off. Shared with the admin console's cancel. */
export const safeSignedConflict = () =>
  conflict(
    'safe_payout_signed',
    "This Safe payout is approved: its owners' signatures let anyone execute it until the Safe uses its nonce. Reject that nonce in the Safe (a transaction with the same nonce); the wallet worker then marks the payout failed.",
  );

const payoutNotFound = () =>
  notFound('payout_not_found', "No payout with this id in this team; list the team's payouts with GET /api/teams/{teamId}/payouts.");

/** SHA-256 (hex) of what identifies a payout request: a key replayed with another body is told apart by it. */
async function hashPayoutRequest(body: z.infer<typeof RequestPayoutBody>): Promise<string> {
  const canonical = JSON.stringify([body.chain_id, body.token, body.recipient, body.amount, body.memo]);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export const payoutRoutes = createRouter()
  .openapi(request, async (c) => {
    const { teamId } = c.req.valid('param');
    const { 'idempotency-key': idempotencyKey } = c.req.valid('header');
    const body = c.req.valid('json');
    const requestHash = await hashPayoutRequest(body);
    const { payout, replayed } = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      const recorded = await requestPayout(tx, {
        teamId,
        chainId: body.chain_id,
        token: body.token,
        recipient: body.recipient,
        amount: body.amount,
        memo: body.memo,
        idempotencyKey,
        requestHash,
      });
      if (recorded.request_hash !== requestHash) {
        throw new ApiError(
          422,
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different payout request; send a new key for a new payout, or the same body to get the first one back.',
        );
      }
      return { payout: (await findPayout(tx, teamId, recorded.payout_id))!, replayed: recorded.replayed };
    });
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(payout, 201);
  })
  .openapi(list, async (c) => {
    const { teamId } = c.req.valid('param');
    const { status, limit } = c.req.valid('query');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listPayouts(tx, teamId, status, limit);
    });
    return c.json({ items }, 200);
  })
  .openapi(read, async (c) => {
    const { teamId, payoutId } = c.req.valid('param');
    const payout = await inRequestTransaction(c, (tx) => findPayout(tx, teamId, payoutId));
    if (!payout) throw payoutNotFound();
    return c.json(payout, 200);
  })
  .openapi(approve, async (c) => {
    const { teamId, payoutId } = c.req.valid('param');
    const payout = await inRequestTransaction(c, async (tx): Promise<PayoutRow> => {
      const found = await findPayout(tx, teamId, payoutId);
      if (!found) throw payoutNotFound();
      if (found.safe_address)
        throw conflict(
          'safe_signature_required',
          'A Safe pays this payout: approve it with your signature of its SafeTx (GET …/safe-transaction, then POST …/approve-safe).',
        );
      const outcome = await approvePayout(tx, payoutId);
      switch (outcome) {
        case 'not_found':
          throw payoutNotFound();
        case 'not_requested':
          throw conflict('payout_not_requested', 'Only a requested payout can be approved; this one is past that (see its status).');
        case 'own_payout':
          throw forbidden('own_payout', 'You requested this payout; another approver must approve it (four eyes on every payout).');
        case 'already_approved':
          throw conflict('already_approved', 'You already approved this payout; it waits for approvals from other people.');
        default:
          return (await findPayout(tx, teamId, payoutId))!;
      }
    });
    return c.json(payout, 200);
  })
  .openapi(cancel, async (c) => {
    const { teamId, payoutId } = c.req.valid('param');
    const payout = await inRequestTransaction(c, async (tx): Promise<PayoutRow> => {
      if (!(await findPayout(tx, teamId, payoutId))) throw payoutNotFound();
      const outcome = await cancelPayout(tx, payoutId);
      switch (outcome) {
        case 'not_found':
          throw payoutNotFound();
        case 'forbidden':
          throw forbidden('not_your_payout', 'Only the requester or a holder of payout.approve can cancel this payout.');
        case 'not_cancellable':
          throw conflict('payout_not_cancellable', 'This payout was already sent or is finished; a sent payout cannot be cancelled.');
        case 'safe_signed':
          throw safeSignedConflict();
        default:
          return (await findPayout(tx, teamId, payoutId))!;
      }
    });
    return c.json(payout, 200);
  })
  .openapi(setThreshold, async (c) => {
    const { teamId } = c.req.valid('param');
    const { approval_threshold: threshold } = c.req.valid('json');
    await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      await setApprovalThreshold(tx, teamId, threshold);
    });
    return c.json({ approval_threshold: threshold }, 200);
  });
