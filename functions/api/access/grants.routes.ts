// Which bundles a team grants to its roles (owner → owner, admin → admin, member → member to start with), and
// the bundle catalog. Owners (grant.manage) grant a role more bundles or take them back; the database keeps
// the owner role's owner bundle and audits every grant and revocation.
import { z } from '@hono/zod-openapi';
import { badRequest, conflict, notFound } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, securedRoute, Timestamp, Uuid } from '../core/route.ts';
import { findBundle, insertRoleGrant, listBundles, listRoleGrants, deleteRoleGrant } from './keys.queries.ts';

const TeamRole = z.enum(['owner', 'admin', 'member'], { message: 'must be owner, admin or member' });
const BundleName = z.string().regex(/^[a-z][a-z0-9-]*$/, { message: 'must be a bundle name such as member or admin' });
const RoleGrant = z
  .object({
    role: TeamRole,
    bundle: z.string(),
    granted_by: Uuid.nullable().openapi({ description: 'null: a default' }),
    granted_at: Timestamp,
  })
  .openapi('RoleGrant');
const Bundle = z
  .object({ name: z.string(), description: z.string(), granted_to: z.enum(['role', 'key']), capabilities: z.array(z.string()) })
  .openapi('Bundle');
const GrantBody = z
  .strictObject({ role: TeamRole, bundle: BundleName })
  .openapi('GrantBundle', { example: { role: 'admin', bundle: 'owner' } });
const TeamPath = z.strictObject({ teamId: Uuid.openapi({ param: { name: 'teamId', in: 'path' } }) });
const GrantPath = TeamPath.extend({
  role: TeamRole.openapi({ param: { name: 'role', in: 'path' } }),
  bundle: BundleName.openapi({ param: { name: 'bundle', in: 'path' } }),
});

const bundles = securedRoute('self.read', {
  method: 'get',
  path: '/bundles',
  tags: ['access keys'],
  summary: 'Every bundle and the capabilities it holds',
  responses: { 200: jsonResponse(z.object({ items: z.array(Bundle) }), 'The bundles') },
});
const listGrants = securedRoute('member.read', {
  method: 'get',
  path: '/teams/{teamId}/grants',
  tags: ['access keys'],
  summary: 'Which bundles the team grants to each role',
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ items: z.array(RoleGrant) }), 'The grants'), ...errorResponses(400, 404) },
});
const grant = securedRoute('grant.manage', {
  method: 'post',
  path: '/teams/{teamId}/grants',
  tags: ['access keys'],
  summary: 'Grant a role bundle to one of the team’s roles',
  request: { params: TeamPath, body: jsonBody(GrantBody, 'The role and the bundle') },
  responses: { 201: jsonResponse(RoleGrant, 'The grant'), ...errorResponses(404, 409) },
});
const revokeGrant = securedRoute('grant.manage', {
  method: 'delete',
  path: '/teams/{teamId}/grants/{role}/{bundle}',
  tags: ['access keys'],
  summary: 'Take a bundle back from a role (the owner role keeps the owner bundle)',
  request: { params: GrantPath },
  responses: { 204: { description: 'Revoked' }, ...errorResponses(400, 404, 409) },
});

export const grantRoutes = createRouter()
  .openapi(bundles, async (c) => {
    const items = await inRequestTransaction(c, (tx) => listBundles(tx));
    return c.json({ items }, 200);
  })
  .openapi(listGrants, async (c) => {
    const { teamId } = c.req.valid('param');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listRoleGrants(tx, teamId);
    });
    return c.json({ items }, 200);
  })
  .openapi(grant, async (c) => {
    const { teamId } = c.req.valid('param');
    const { role, bundle } = c.req.valid('json');
    const granted = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      const found = await findBundle(tx, bundle);
      if (found?.granted_to !== 'role') {
        throw badRequest(
          'bundle_not_for_roles',
          `${bundle} is ${found ? 'a bundle for access keys' : 'not a bundle'}; roles take role bundles (GET /api/bundles lists them).`,
        );
      }
      const row = await insertRoleGrant(tx, { teamId, role, bundle });
      if (!row) throw conflict('already_granted', `The ${role} role already holds the ${bundle} bundle.`);
      return row;
    });
    return c.json(granted, 201);
  })
  .openapi(revokeGrant, async (c) => {
    const { teamId, role, bundle } = c.req.valid('param');
    if (role === 'owner' && bundle === 'owner')
      throw conflict('owner_bundle_kept', 'The owner role keeps the owner bundle, so the team stays manageable.');
    const deleted = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return deleteRoleGrant(tx, { teamId, role, bundle });
    });
    if (!deleted) throw notFound('grant_not_found', `The ${role} role does not hold the ${bundle} bundle in this team.`);
    return c.body(null, 204);
  });
