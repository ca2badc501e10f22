// Off-chain RINGK credits: the team's balances, credits granted by an owner, and members' stakes (locked for a
// number of days, then withdrawn). Every movement is one balanced ledger transaction in the database.
import { z } from '@hono/zod-openapi';
import { ApiError, conflict, notFound } from '../../_shared/errors.ts';
import type { Tx } from '../../_shared/db.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, securedRoute, Text, Timestamp, Uuid } from '../core/route.ts';
import { findStake, grantCredits, isInsufficientCredits, listStakes, stake, teamBalances, withdrawStake } from './credits.queries.ts';
import { BaseUnits } from './payouts.routes.ts';

const Balance = z
  .object({
    account: z.string().openapi({ description: 'issuance, member:<user id> (spendable) or staked:<user id>' }),
    balance: z.string().openapi({ description: 'Base units, as a decimal string (issuance is negative: what was granted)' }),
  })
  .openapi('CreditBalance');
const Stake = z
  .object({
    id: Uuid,
    team_id: Uuid,
    user_id: Uuid,
    amount: z.string(),
    lock_days: z.number().int(),
    status: z.enum(['locked', 'withdrawn']),
    created_at: Timestamp,
    locked_until: Timestamp,
    withdrawn_at: Timestamp.nullable(),
  })
  .openapi('Stake');
const GrantBody = z
  .strictObject({ member_id: Uuid, amount: BaseUnits, memo: Text(280).default('') })
  .openapi('GrantCredits', { example: { member_id: '0f6d2c1e-6a0b-4b7b-9f0e-3c1d2b4a5e6f', amount: '100', memo: 'welcome' } });
const StakeBody = z
  .strictObject({ amount: BaseUnits, lock_days: z.number().int({ message: 'must be a whole number of days' }).min(0).max(3650) })
  .openapi('StakeCredits', { example: { amount: '60', lock_days: 30 } });
const TeamPath = z.strictObject({ teamId: Uuid.openapi({ param: { name: 'teamId', in: 'path' } }) });
const StakePath = TeamPath.extend({ stakeId: Uuid.openapi({ param: { name: 'stakeId', in: 'path' } }) });

const balances = securedRoute('wallet.read', {
  method: 'get',
  path: '/teams/{teamId}/wallet/balances',
  tags: ['wallet'],
  summary: "The team's credit balances per account (debits and credits sum to zero)",
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ items: z.array(Balance) }), 'The balances'), ...errorResponses(400, 404) },
});
const grant = securedRoute('wallet.manage', {
  method: 'post',
  path: '/teams/{teamId}/wallet/credits',
  tags: ['wallet'],
  summary: 'Grant credits to a member of the team',
  request: { params: TeamPath, body: jsonBody(GrantBody, 'Who and how much') },
  responses: { 201: jsonResponse(z.object({ transaction_id: Uuid }), 'The ledger transaction'), ...errorResponses(404) },
});
const stakes = securedRoute('wallet.read', {
  method: 'get',
  path: '/teams/{teamId}/stakes',
  tags: ['wallet'],
  summary: "The team's stakes, newest first",
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ items: z.array(Stake) }), 'The stakes'), ...errorResponses(400, 404) },
});
const createStake = securedRoute('stake.manage', {
  method: 'post',
  path: '/teams/{teamId}/stakes',
  tags: ['wallet'],
  summary: 'Stake some of one’s own credits for lock_days',
  request: { params: TeamPath, body: jsonBody(StakeBody, 'How much, how long') },
  responses: { 201: jsonResponse(Stake, 'The stake'), ...errorResponses(404, 422) },
});
const withdraw = securedRoute('stake.manage', {
  method: 'post',
  path: '/teams/{teamId}/stakes/{stakeId}/withdraw',
  tags: ['wallet'],
  summary: 'Withdraw one’s own stake once its lock has ended',
  request: { params: StakePath },
  responses: { 200: jsonResponse(Stake, 'The withdrawn stake'), ...errorResponses(400, 404, 409) },
});

const insufficientCredits = () =>
  new ApiError(
    422,
    'insufficient_credits',
    'You hold fewer spendable credits than this needs; see GET /api/teams/{teamId}/wallet/balances.',
  );

/** Runs a ledger movement, turning the database's overdraft refusal into 422 insufficient_credits. */
async function refusingOverdraft<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isInsufficientCredits(error)) throw insufficientCredits();
    throw error;
  }
}

const stakeNotFound = () =>
  notFound('stake_not_found', 'No stake of yours with this id in this team; list them with GET /api/teams/{teamId}/stakes.');

export const creditRoutes = createRouter()
  .openapi(balances, async (c) => {
    const { teamId } = c.req.valid('param');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return teamBalances(tx, teamId);
    });
    return c.json({ items }, 200);
  })
  .openapi(grant, async (c) => {
    const { teamId } = c.req.valid('param');
    const body = c.req.valid('json');
    const transactionId = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      const [member] = await tx`select 1 from public.team_members where team_id = ${teamId} and user_id = ${body.member_id}`;
      if (!member) throw notFound('member_not_found', 'No member with this id in this team; credits go to members only.');
      return grantCredits(tx, teamId, body.member_id, body.amount, body.memo);
    });
    return c.json({ transaction_id: transactionId }, 201);
  })
  .openapi(stakes, async (c) => {
    const { teamId } = c.req.valid('param');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listStakes(tx, teamId);
    });
    return c.json({ items }, 200);
  })
  .openapi(createStake, async (c) => {
    const { teamId } = c.req.valid('param');
    const body = c.req.valid('json');
    const made = await refusingOverdraft(
      inRequestTransaction(c, async (tx: Tx) => {
        await requireVisibleTeam(tx, teamId);
        const id = await stake(tx, teamId, body.amount, body.lock_days);
        return (await findStake(tx, teamId, id))!;
      }),
    );
    return c.json(made, 201);
  })
  .openapi(withdraw, async (c) => {
    const { teamId, stakeId } = c.req.valid('param');
    const withdrawn = await inRequestTransaction(c, async (tx) => {
      if (!(await findStake(tx, teamId, stakeId))) throw stakeNotFound();
      const outcome = await withdrawStake(tx, stakeId);
      if (outcome === 'not_found') throw stakeNotFound();
      if (outcome === 'locked') throw conflict('stake_locked', 'This stake is still locked; withdraw it after its locked_until.');
      if (outcome === 'already_withdrawn') throw conflict('stake_already_withdrawn', 'This stake is already withdrawn.');
      return (await findStake(tx, teamId, stakeId))!;
    });
    return c.json(withdrawn, 200);
  });
