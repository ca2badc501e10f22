// A team's real-world-asset inventory (what partners' webhooks put there, applied by the Embassy consumer)
// and the partners linked to the team: only a linked partner's events change the team's inventory.
import { z } from '@hono/zod-openapi';
import { conflict, notFound } from '../../_shared/errors.ts';
import { enqueueEvent, recordAudit } from '../../_shared/outbox.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireFeature } from '../core/feature-gate.ts';
import { requireTeamCapability } from '../core/pep.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, PageLimit, securedRoute, Timestamp, Uuid } from '../core/route.ts';
import { deleteLink, insertLink, listInventory, listLinks, listMovements, partnerExists } from './inventory.queries.ts';

const Decimal = z.string().openapi({ description: 'An exact decimal (numeric(38, 6)) as text', example: '12.5' });
const InventoryItem = z
  .object({
    id: Uuid,
    partner: z.string(),
    asset_kind: z.enum(['energy', 'food_lot', 'water']),
    asset_ref: z.string(),
    unit: z.enum(['kWh', 'kg', 'm3']),
    quantity: Decimal,
    location: z.string().nullable(),
    version: z.number().int(),
    updated_at: Timestamp,
  })
  .openapi('RwaInventoryItem');
const Movement = z
  .object({
    id: Uuid,
    inventory_id: Uuid,
    kind: z.string(),
    delta: Decimal,
    quantity_after: Decimal,
    version_after: z.number().int(),
    occurred_at: Timestamp,
    recorded_at: Timestamp,
  })
  .openapi('RwaMovement');
const Link = z.object({ partner: z.string(), display_name: z.string(), status: z.string(), linked_at: Timestamp }).openapi('EmbassyLink');

const PartnerName = z.string().regex(/^[a-z][a-z0-9-]{1,39}$/, { message: 'must be a partner name such as energy-union' });
const TeamPath = z.strictObject({ teamId: Uuid.openapi({ param: { name: 'teamId', in: 'path' } }) });
const LinkPath = TeamPath.extend({ partner: PartnerName.openapi({ param: { name: 'partner', in: 'path' } }) });
const LinkBody = z.strictObject({ partner: PartnerName }).openapi('LinkEmbassy', { example: { partner: 'energy-union' } });

const getInventory = securedRoute('rwa.read', {
  method: 'get',
  path: '/{teamId}/rwa/inventory',
  tags: ['rwa'],
  summary: "The team's real-world assets per partner, with exact quantities",
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ items: z.array(InventoryItem) }), 'The inventory'), ...errorResponses(400, 403, 404) },
});

const getMovements = securedRoute('rwa.read', {
  method: 'get',
  path: '/{teamId}/rwa/movements',
  tags: ['rwa'],
  summary: "The team's inventory history, newest first",
  request: { params: TeamPath, query: z.strictObject({ limit: PageLimit }) },
  responses: { 200: jsonResponse(z.object({ items: z.array(Movement) }), 'The movements'), ...errorResponses(400, 403, 404) },
});

const getLinks = securedRoute('rwa.read', {
  method: 'get',
  path: '/{teamId}/embassy/links',
  tags: ['embassy'],
  summary: 'The partners linked to the team',
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ items: z.array(Link) }), 'The linked partners'), ...errorResponses(400, 404) },
});

const createLink = securedRoute('embassy.manage', {
  method: 'post',
  path: '/{teamId}/embassy/links',
  tags: ['embassy'],
  summary: "Link a partner to the team: its webhooks may change the team's inventory from now on",
  request: { params: TeamPath, body: jsonBody(LinkBody, 'The partner') },
  responses: { 201: jsonResponse(Link, 'The link'), ...errorResponses(404, 409) },
});

const removeLink = securedRoute('embassy.manage', {
  method: 'delete',
  path: '/{teamId}/embassy/links/{partner}',
  tags: ['embassy'],
  summary: 'Unlink a partner: its later webhooks change nothing in the team',
  request: { params: LinkPath },
  responses: { 200: jsonResponse(z.object({ partner: z.string(), unlinked: z.literal(true) }), 'Unlinked'), ...errorResponses(400, 404) },
});

const partnerNotFound = (partner: string) =>
  notFound(
    'partner_unknown',
    `There is no Embassy partner named "${partner}"; the partners are energy-union, greenfood, water-union, essence-stream.`,
  );

export const rwaRoutes = createRouter()
  .openapi(getInventory, async (c) => {
    const { teamId } = c.req.valid('param');
    await requireFeature(c.var.deps.flags, 'rwa', 'The real-world-asset inventory', { userId: c.var.principal.id, teamId });
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listInventory(tx, teamId);
    });
    return c.json({ items }, 200);
  })
  .openapi(getMovements, async (c) => {
    const { teamId } = c.req.valid('param');
    await requireFeature(c.var.deps.flags, 'rwa', 'The real-world-asset inventory', { userId: c.var.principal.id, teamId });
    const { limit } = c.req.valid('query');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listMovements(tx, teamId, limit);
    });
    return c.json({ items }, 200);
  })
  .openapi(getLinks, async (c) => {
    const { teamId } = c.req.valid('param');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listLinks(tx, teamId);
    });
    return c.json({ items }, 200);
  })
  .openapi(createLink, async (c) => {
    const { teamId } = c.req.valid('param');
    const { partner } = c.req.valid('json');
    const requestId = c.var.requestId;
    const link = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      await requireTeamCapability(tx, teamId, 'embassy.manage');
      if (!(await partnerExists(tx, partner))) throw partnerNotFound(partner);
      const link = await insertLink(tx, teamId, partner);
      if (!link) throw conflict('already_linked', `${partner} is already linked to this team.`);
      const payload = { team_id: teamId, partner, linked_by: c.var.principal.id };
      await enqueueEvent(tx, { type: 'embassy.partner_linked', aggregateId: teamId, payload, correlationId: requestId });
      await recordAudit(tx, { action: 'embassy.partner_linked', targetType: 'embassy', targetId: partner, teamId, requestId });
      return link;
    });
    return c.json(link, 201);
  })
  .openapi(removeLink, async (c) => {
    const { teamId, partner } = c.req.valid('param');
    const requestId = c.var.requestId;
    await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      await requireTeamCapability(tx, teamId, 'embassy.manage');
      if (!(await deleteLink(tx, teamId, partner))) {
        throw notFound(
          'link_not_found',
          `${partner} is not linked to this team; GET /api/teams/${teamId}/embassy/links lists the linked partners.`,
        );
      }
      await recordAudit(tx, { action: 'embassy.partner_unlinked', targetType: 'embassy', targetId: partner, teamId, requestId });
    });
    return c.json({ partner, unlinked: true as const }, 200);
  });
