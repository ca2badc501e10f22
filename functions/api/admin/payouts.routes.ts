// The admin console's payouts, for platform admins only: every team's payouts by status, the stuck ones (approved
// or sent, with an error or waiting longer than `stuck_minutes`) with their last error, and two audited actions:
// cancel (only before the transfer is signed: a sent transfer cannot be called back) and retry (a failed payout
// becomes a new request of the same transfer, which needs its approvals again: money never moves on an admin's
// word alone). Runs as service_role behind the platform-admin check, like the rest of /api/admin.
import { z } from '@hono/zod-openapi';
import { conflict, notFound } from '../../_shared/errors.ts';
import { transactionLimits, withServiceRole, type Tx } from '../../_shared/db.ts';
import { safeSignedConflict } from '../wallet/payouts.routes.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, securedRoute, Text, Timestamp, Uuid } from '../core/route.ts';

const STATUSES = ['requested', 'approved', 'submitted', 'confirmed', 'failed', 'cancelled'] as const;
const AdminPayout = z
  .object({
    id: Uuid,
    team_id: Uuid,
    team_name: z.string(),
    status: z.enum(STATUSES),
    chain_id: z.number().int(),
    token: z.string(),
    recipient: z.string(),
    amount: z.string(),
    memo: z.string(),
    tx_hash: z.string().nullable(),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    stuck: z.boolean().openapi({ description: 'Approved or sent, and with an error or waiting longer than stuck_minutes' }),
    approved_at: Timestamp.nullable(),
    updated_at: Timestamp,
  })
  .openapi('AdminPayout');
const ListQuery = z.strictObject({
  status: z.enum(STATUSES).optional(),
  stuck: z.enum(['true', 'false']).optional().openapi({ description: 'true: only the stuck payouts' }),
  stuck_minutes: z.coerce
    .number({ message: 'must be a whole number of minutes' })
    .int({ message: 'must be a whole number of minutes' })
    .min(1)
    .max(10080)
    .default(10),
});
const PayoutPath = z.strictObject({ payoutId: Uuid.openapi({ param: { name: 'payoutId', in: 'path' } }) });
const ActionBody = z
  .strictObject({ reason: Text(280).refine((value) => value.trim().length > 0, { message: 'must say why, for the audit log' }) })
  .openapi('AdminPayoutAction', { example: { reason: 'recipient address was wrong (ticket 4411)' } });

const list = securedRoute('platform.admin', {
  method: 'get',
  path: '/payouts',
  tags: ['admin'],
  summary: 'Platform admins: payouts of every team, newest first, by status or only the stuck ones',
  request: { query: ListQuery },
  responses: { 200: jsonResponse(z.object({ items: z.array(AdminPayout) }), 'The payouts'), ...errorResponses(400) },
});
const cancel = securedRoute('platform.admin', {
  method: 'post',
  path: '/payouts/{payoutId}/cancel',
  tags: ['admin'],
  summary: 'Platform admins: cancel a payout not yet sent (audited)',
  request: { params: PayoutPath, body: jsonBody(ActionBody, 'Why') },
  responses: { 200: jsonResponse(AdminPayout, 'The cancelled payout'), ...errorResponses(404, 409) },
});
const retry = securedRoute('platform.admin', {
  method: 'post',
  path: '/payouts/{payoutId}/retry',
  tags: ['admin'],
  summary: 'Platform admins: request a failed payout again, as a new payout that needs its approvals (audited)',
  request: { params: PayoutPath, body: jsonBody(ActionBody, 'Why') },
  responses: { 201: jsonResponse(AdminPayout, 'The new payout'), ...errorResponses(404, 409) },
});

async function readPayouts(tx: Tx, where: { id?: string; status?: string; stuckOnly: boolean; stuckMinutes: number }) {
  return tx<z.infer<typeof AdminPayout>[]>`
    select p.id, p.team_id, t.name as team_name, p.status, p.chain_id::int as chain_id, p.token, p.recipient,
           p.amount::text as amount, p.memo, p.tx_hash, p.attempts, p.last_error, p.approved_at, p.updated_at,
           (p.status in ('approved', 'submitted')
             and (p.last_error is not null or p.approved_at < now() - make_interval(mins => ${where.stuckMinutes}))) as stuck
    from public.payouts p join public.teams t on t.id = p.team_id
    where (${where.id ?? null}::uuid is null or p.id = ${where.id ?? null}::uuid)
      and (${where.status ?? null}::text is null or p.status = ${where.status ?? null}::text)
      and (not ${where.stuckOnly} or (p.status in ('approved', 'submitted')
             and (p.last_error is not null or p.approved_at < now() - make_interval(mins => ${where.stuckMinutes}))))
    order by p.created_at desc, p.id
    limit 200`;
}

const payoutNotFound = () => notFound('payout_not_found', 'No payout has this id.');

export const adminPayoutRoutes = createRouter()
  .openapi(list, async (c) => {
    const { status, stuck, stuck_minutes: stuckMinutes } = c.req.valid('query');
    const { deps } = c.var;
    const items = await withServiceRole(
      deps.sql,
      (tx) => readPayouts(tx, { status, stuckOnly: stuck === 'true', stuckMinutes }),
      transactionLimits(deps.config),
    );
    return c.json({ items }, 200);
  })
  .openapi(cancel, async (c) => {
    const { payoutId } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const { deps, principal, requestId } = c.var;
    const payout = await withServiceRole(
      deps.sql,
      async (tx) => {
        const [before] = await tx<{ team_id: string; status: string; last_error: string | null; safe_address: string | null }[]>`
          select team_id, status, last_error, safe_address from public.payouts where id = ${payoutId} for update`;
        if (!before) throw payoutNotFound();
        if (before.status === 'approved' && before.safe_address) throw safeSignedConflict();
        if (before.status !== 'requested' && before.status !== 'approved')
          throw conflict(
            'payout_not_cancellable',
            `This payout is ${before.status}: only a requested or approved payout can be cancelled; a sent transfer cannot be called back.`,
          );
        await tx`update public.payouts set status = 'cancelled' where id = ${payoutId}`;
        await tx`
          insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
          values (${principal.id}, ${before.team_id}, 'payout.cancelled_by_admin', 'payout', ${payoutId}, ${requestId},
                  ${tx.json({ reason, status_before: before.status, last_error: before.last_error })})`;
        return (await readPayouts(tx, { id: payoutId, stuckOnly: false, stuckMinutes: 10 }))[0]!;
      },
      transactionLimits(deps.config),
    );
    return c.json(payout, 200);
  })
  .openapi(retry, async (c) => {
    const { payoutId } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const { deps, principal, requestId } = c.var;
    const payout = await withServiceRole(
      deps.sql,
      async (tx) => {
        const [failed] = await tx<{ status: string; team_id: string }[]>`
          select status, team_id from public.payouts where id = ${payoutId} for update`;
        if (!failed) throw payoutNotFound();
        if (failed.status !== 'failed')
          throw conflict(
            'payout_not_retryable',
            `This payout is ${failed.status}: only a failed payout can be requested again (approved and sent ones are retried by the wallet worker on its own).`,
          );
        const [created] = await tx<{ id: string }[]>`
          insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, memo, idempotency_key, request_hash)
          select team_id, requested_by, chain_id, token, recipient, amount, left('retry: ' || memo, 280), 'admin-retry:' || id, request_hash
          from public.payouts where id = ${payoutId}
          on conflict do nothing
          returning id`;
        if (!created) throw conflict('payout_already_retried', 'This failed payout was already requested again; see the newer payout.');
        await tx`
          insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
          values (${principal.id}, ${failed.team_id}, 'payout.retried_by_admin', 'payout', ${payoutId}, ${requestId},
                  ${tx.json({ reason, new_payout_id: created.id })})`;
        return (await readPayouts(tx, { id: created.id, stuckOnly: false, stuckMinutes: 10 }))[0]!;
      },
      transactionLimits(deps.config),
    );
    return c.json(payout, 201);
  });
