// GET /api/me: who the caller is and what they hold — a person's teams with their role's capabilities, or a
// key's principal, team, bundle and capabilities. What a client (or an agent worker) checks before it acts.
import { z } from '@hono/zod-openapi';
import { createRouter, jsonResponse, securedRoute, Timestamp, Uuid } from '../core/route.ts';

const Me = z
  .object({
    kind: z.enum(['user', 'key']),
    id: Uuid.openapi({ description: 'The account id: a person, or the agent or integration behind the key' }),
    platform_admin: z.boolean(),
    expires_at: Timestamp.openapi({ description: 'When the session or the key stops working' }),
    key: z
      .object({ id: Uuid, team_id: Uuid, bundle: z.string(), principal_kind: z.enum(['agent', 'integration']), name: z.string() })
      .nullable(),
    teams: z.array(z.object({ team_id: Uuid, capabilities: z.array(z.string()) })),
  })
  .openapi('Me');

const me = securedRoute('self.read', {
  method: 'get',
  path: '/me',
  tags: ['access keys'],
  summary: 'Who I am and which capabilities I hold, per team',
  responses: { 200: jsonResponse(Me, 'The caller') },
});

export const meRoutes = createRouter().openapi(me, async (c) => {
  const { principal, deps } = c.var;
  const expiresAt = new Date(principal.expiresAt).toISOString();
  if (principal.kind === 'key') {
    const capabilities = [...(await deps.capabilities.bundle(principal.bundle))].sort();
    const key = {
      id: principal.keyId,
      team_id: principal.teamId,
      bundle: principal.bundle,
      principal_kind: principal.principalKind,
      name: principal.name,
    };
    return c.json(
      {
        kind: 'key' as const,
        id: principal.id,
        platform_admin: false,
        expires_at: expiresAt,
        key,
        teams: [{ team_id: principal.teamId, capabilities }],
      },
      200,
    );
  }
  const teams = [...(await deps.capabilities.user(principal.id, true))].map(([teamId, held]) => ({
    team_id: teamId,
    capabilities: [...held].sort(),
  }));
  return c.json(
    { kind: 'user' as const, id: principal.id, platform_admin: principal.platformAdmin, expires_at: expiresAt, key: null, teams },
    200,
  );
});
