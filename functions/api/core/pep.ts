// The policy enforcement point. Every route declares the capability it needs (core/route.ts); before the
// handler runs, the PEP checks that the request's principal holds it and answers 403 `capability_missing`
// naming it otherwise — deny by default: a route without a declaration cannot be defined. What the PEP can
// know from the principal it decides here (a key's bundle, a user's role bundles per team, cached for a few
// seconds); whether a row the request names is in one of the principal's teams is row-level security's
// answer (a 404), with the same catalog (`app.has_capability`). Handlers that need a team-precise check before
// writing call requireTeamCapability, which asks Postgres.
import type { MiddlewareHandler } from 'hono';
import { CAPABILITIES, type Capability } from '../../_shared/capabilities.ts';
import type { Config } from '../../_shared/config.ts';
import { transactionLimits, withServiceRole, type Sql, type Tx } from '../../_shared/db.ts';
import { ApiError } from '../../_shared/errors.ts';
import type { Logger } from '../../_shared/log.ts';
import type { PrincipalEnv } from './context.ts';
import { authenticatePrincipal, type Principal, type UserPrincipal } from './principal.ts';
import { routeTemplate } from './request-metrics.ts';

/** Role bundles and memberships change rarely; a stale allow is still bounded by RLS, a deny is re-checked. */
const CACHE_MS = 4000;
const CACHE_SIZE = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const capabilityMissing = (capability: Capability) =>
  new ApiError(
    403,
    'capability_missing',
    `This needs the capability ${capability}, which you do not hold here; ask a team owner or admin to grant it (GET /api/me shows what you hold).`,
  );

export interface CapabilityResolver {
  /** Capabilities of a key bundle. */
  bundle(bundle: string, fresh?: boolean): Promise<ReadonlySet<string>>;
  /** A user's team capabilities, per team id. */
  user(userId: string, fresh?: boolean): Promise<ReadonlyMap<string, ReadonlySet<string>>>;
}

export function createCapabilityResolver(sql: Sql, config: Config): CapabilityResolver {
  const limits = transactionLimits(config);
  let bundles: { until: number; map: Map<string, Set<string>> } | undefined;
  const users = new Map<string, { until: number; teams: Map<string, Set<string>> }>();

  const loadBundles = async () => {
    const rows = await withServiceRole(
      sql,
      (tx) => tx<{ bundle: string; capabilities: string[] }[]>`
        select bundle, array_agg(capability) as capabilities from public.bundle_capabilities group by bundle`,
      limits,
    );
    return new Map(rows.map((row) => [row.bundle, new Set(row.capabilities)]));
  };

  return {
    async bundle(name, fresh = false) {
      if (fresh || !bundles || bundles.until <= Date.now()) bundles = { until: Date.now() + CACHE_MS, map: await loadBundles() };
      return bundles.map.get(name) ?? new Set();
    },
    async user(userId, fresh = false) {
      const cached = users.get(userId);
      if (!fresh && cached && cached.until > Date.now()) return cached.teams;
      const rows = await withServiceRole(
        sql,
        (tx) => tx<{ team_id: string; capabilities: string[] }[]>`select * from app.capabilities_of_user(${userId})`,
        limits,
      );
      const teams = new Map(rows.map((row) => [row.team_id, new Set(row.capabilities)]));
      if (users.size >= CACHE_SIZE) users.delete(users.keys().next().value!);
      users.set(userId, { until: Date.now() + CACHE_MS, teams });
      return teams;
    },
  };
}

type Decision = 'allow' | 'deny';

/** The team a route names in its path (`/teams/{teamId}/…`), when it is a well-formed id. */
function pathTeam(teamId: string | undefined): string | undefined {
  return teamId && UUID.test(teamId) ? teamId : undefined;
}

async function decideForUser(
  resolver: CapabilityResolver,
  user: UserPrincipal,
  capability: Capability,
  teamId: string | undefined,
  fresh: boolean,
): Promise<Decision> {
  const teams = await resolver.user(user.id, fresh);
  if (teamId) {
    // not a member: the team is invisible to them, and the handler answers 404 as for any unknown id
    const held = teams.get(teamId);
    return !held || held.has(capability) ? 'allow' : 'deny';
  }
  // in no team: whatever the request names is invisible to them (RLS answers); in teams without it: refused
  if (teams.size === 0) return 'allow';
  return [...teams.values()].some((held) => held.has(capability)) ? 'allow' : 'deny';
}

/** Whether `principal` may call a route needing `capability` (in `teamId`, when the path names one). */
export async function decide(
  resolver: CapabilityResolver,
  principal: Principal,
  capability: Capability,
  teamId?: string,
): Promise<Decision> {
  const { scope } = CAPABILITIES[capability];
  if (scope === 'principal') return 'allow';
  if (scope === 'account') return principal.kind === 'user' ? 'allow' : 'deny';
  if (scope === 'platform') return principal.kind === 'user' && principal.platformAdmin ? 'allow' : 'deny';
  if (principal.kind === 'key') {
    // another team than the key's: invisible to it, answered 404 by the handler
    if (teamId && teamId !== principal.teamId) return 'allow';
    return (await resolver.bundle(principal.bundle)).has(capability) ? 'allow' : 'deny';
  }
  // a deny from the cache is checked against the database before it is answered
  if ((await decideForUser(resolver, principal, capability, teamId, false)) === 'allow') return 'allow';
  return decideForUser(resolver, principal, capability, teamId, true);
}

/** The middleware a route's declaration installs: authenticates the principal (401 otherwise), then refuses a
    principal without `capability` (403) before any handler work. */
export function requireCapability(capability: Capability): MiddlewareHandler<PrincipalEnv> {
  return async (c, next) => {
    const principal = await authenticatePrincipal(c);
    const { deps } = c.var;
    const teamId = pathTeam(c.req.param('teamId'));
    if ((await decide(deps.capabilities, principal, capability, teamId)) === 'deny') {
      if (CAPABILITIES[capability].privileged) {
        await auditDenial(deps.sql, deps.config, deps.logger, {
          principal,
          capability,
          teamId: teamId ?? (principal.kind === 'key' ? principal.teamId : null),
          route: `${c.req.method} ${routeTemplate(c) ?? c.req.path}`,
          requestId: c.var.requestId,
        });
      }
      throw capabilityMissing(capability);
    }
    await next();
  };
}

/** A refused call that needed a privileged capability, in the audit log (as service_role: the caller may
    not write their own refusal into a team's log). A failure to audit is logged and does not change the 403. */
async function auditDenial(
  sql: Sql,
  config: Config,
  logger: Logger,
  denial: { principal: Principal; capability: Capability; teamId: string | null; route: string; requestId: string },
): Promise<void> {
  const details = {
    capability: denial.capability,
    principal_kind: denial.principal.kind,
    ...(denial.principal.kind === 'key' ? { key_id: denial.principal.keyId } : {}),
  };
  try {
    await withServiceRole(
      sql,
      (tx) => tx`
        insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
        select ${denial.principal.id}, t.id, 'capability.denied', 'route', ${denial.route}, ${denial.requestId}, ${tx.json(details)}
        from (select ${denial.teamId}::uuid as wanted) w left join public.teams t on t.id = w.wanted`,
      transactionLimits(config),
    );
  } catch (error) {
    logger.warn('could not audit a refused privileged call', { error: (error as Error).message, capability: denial.capability });
  }
}

/** Inside a request's transaction: refuses with capability_missing unless the principal holds `capability` in
    `teamId` (app.has_capability, the same check RLS makes). For handlers that know the team only from the body
    or from a row, and must refuse before they write. */
export async function requireTeamCapability(tx: Tx, teamId: string, capability: Capability): Promise<void> {
  const [row] = await tx<{ held: boolean }[]>`select app.has_capability(${teamId}, ${capability}) as held`;
  if (!row?.held) throw capabilityMissing(capability);
}
