// The Embassy pages of the admin console (platform admins): partners with their delivery counts, inbound
// webhooks with what became of them, outbound webhooks with their attempts — dead letters among them — and
// the manual redeliver of a dead one (audited in the database function it calls).
import { z } from '@hono/zod-openapi';
import { transactionLimits, withServiceRole } from '../../_shared/db.ts';
import { secretVariableOf } from '../../_shared/embassy/signatures.ts';
import { conflict, notFound } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { createRouter, errorResponses, jsonResponse, PageLimit, securedRoute, Timestamp, Uuid } from '../core/route.ts';
import { listInbound, listOutbound, listPartners, redeliverOutbound } from './admin.queries.ts';

const PartnerName = z.string().regex(/^[a-z][a-z0-9-]{1,39}$/, { message: 'must be a partner name such as energy-union' });
const OutboundStatus = z.enum(['pending', 'delivered', 'dead'], { message: 'must be pending, delivered or dead' });

const Partner = z
  .object({
    partner: z.string(),
    display_name: z.string(),
    status: z.string(),
    endpoint_url: z.string().nullable(),
    inbound_event_types: z.array(z.string()),
    outbound_event_types: z.array(z.string()),
    secret_ref: z.string().openapi({ description: 'The variable holding the secret (never its value)' }),
    secret_configured: z.boolean().openapi({ description: 'Whether this gateway has a value for secret_ref' }),
    linked_teams: z.number().int(),
    inbound_total: z.number().int(),
    outbound_pending: z.number().int(),
    outbound_delivered: z.number().int(),
    outbound_dead: z.number().int(),
  })
  .openapi('EmbassyPartner');
const Inbound = z
  .object({
    id: Uuid,
    partner: z.string(),
    webhook_id: z.string(),
    event_type: z.string(),
    team_id: Uuid.nullable(),
    received_at: Timestamp,
    signature_outcome: z.string(),
    status: z.string(),
    answer_status: z.number().int(),
    processed_at: Timestamp.nullable(),
    result: z.string().nullable(),
  })
  .openapi('EmbassyInboundDelivery');
const Outbound = z
  .object({
    id: Uuid,
    partner: z.string(),
    event_id: Uuid,
    event_type: z.string(),
    status: OutboundStatus,
    attempts: z.number().int(),
    last_response_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: Timestamp,
    created_at: Timestamp,
    delivered_at: Timestamp.nullable(),
  })
  .openapi('EmbassyOutboundDelivery');

const partners = securedRoute('platform.admin', {
  method: 'get',
  path: '/partners',
  tags: ['admin', 'embassy'],
  summary: 'Platform admins: the Embassy partners, whether their secret is configured, and their delivery counts',
  responses: { 200: jsonResponse(z.object({ items: z.array(Partner) }), 'The partners') },
});
const inbound = securedRoute('platform.admin', {
  method: 'get',
  path: '/inbound',
  tags: ['admin', 'embassy'],
  summary: 'Platform admins: the newest inbound partner webhooks with their answer and result',
  request: { query: z.strictObject({ partner: PartnerName.optional(), limit: PageLimit }) },
  responses: { 200: jsonResponse(z.object({ items: z.array(Inbound) }), 'Newest first'), ...errorResponses(400) },
});
const outbound = securedRoute('platform.admin', {
  method: 'get',
  path: '/outbound',
  tags: ['admin', 'embassy'],
  summary: 'Platform admins: the newest outbound webhooks with their attempts (status=dead: the dead letters)',
  request: { query: z.strictObject({ partner: PartnerName.optional(), status: OutboundStatus.optional(), limit: PageLimit }) },
  responses: { 200: jsonResponse(z.object({ items: z.array(Outbound) }), 'Newest first'), ...errorResponses(400) },
});
const redeliver = securedRoute('platform.admin', {
  method: 'post',
  path: '/outbound/{id}/redeliver',
  tags: ['admin', 'embassy'],
  summary: 'Platform admins: send a dead-lettered outbound webhook once more (audited)',
  request: { params: z.strictObject({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: {
    200: jsonResponse(z.object({ id: Uuid, status: z.literal('pending') }), 'Pending again: the Embassy consumer makes one more attempt'),
    ...errorResponses(400, 404, 409),
  },
});

export const embassyAdminRoutes = createRouter()
  .openapi(partners, async (c) => {
    const { sql, config } = c.var.deps;
    const rows = await withServiceRole(sql, (tx) => listPartners(tx), transactionLimits(config));
    const items = rows.map((row) => ({
      ...row,
      secret_configured: Boolean((config as Record<string, unknown>)[secretVariableOf(row.partner)]),
    }));
    return c.json({ items }, 200);
  })
  .openapi(inbound, async (c) => {
    const { sql, config } = c.var.deps;
    const filter = c.req.valid('query');
    const items = await withServiceRole(sql, (tx) => listInbound(tx, filter), transactionLimits(config));
    return c.json({ items }, 200);
  })
  .openapi(outbound, async (c) => {
    const { sql, config } = c.var.deps;
    const filter = c.req.valid('query');
    const items = await withServiceRole(sql, (tx) => listOutbound(tx, filter), transactionLimits(config));
    return c.json({ items }, 200);
  })
  .openapi(redeliver, async (c) => {
    const { id } = c.req.valid('param');
    const before = await inRequestTransaction(c, (tx) => redeliverOutbound(tx, id, c.var.requestId));
    if (before === null) {
      throw notFound('delivery_not_found', `There is no outbound delivery ${id}; GET /api/admin/embassy/outbound lists them.`);
    }
    if (before !== 'dead') {
      throw conflict(
        'delivery_not_dead',
        `Delivery ${id} is ${before}, not dead: only a dead-lettered delivery is redelivered by hand (a pending one is retried on its own).`,
      );
    }
    return c.json({ id, status: 'pending' as const }, 200);
  });
