// SQL of the admin console. Operators look across teams, so these run as service_role (withServiceRole, and
// only behind the platform-admin check of admin.routes.ts), never as the signed-in user.
import type { Tx } from '../../_shared/db.ts';

export interface AuditRow {
  /** bigint identity, as text (beyond what a JS number holds exactly, one day) */
  id: string;
  occurred_at: string;
  actor_id: string | null;
  actor_name: string | null;
  team_id: string | null;
  team_name: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

/** The newest audit entries (before `beforeId` when paging), with the actor's and the team's names. */
export function listRecentAudit(tx: Tx, options: { beforeId: string | null; limit: number }): Promise<AuditRow[]> {
  return tx<AuditRow[]>`
    select a.id::text as id, a.occurred_at, a.actor_id, p.display_name as actor_name, a.team_id, t.name as team_name,
      a.action, a.target_type, a.target_id, a.request_id, a.details
    from public.audit_log a
    left join public.profiles p on p.id = a.actor_id
    left join public.teams t on t.id = a.team_id
    where ${options.beforeId}::int8 is null or a.id < ${options.beforeId}::int8
    order by a.id desc
    limit ${options.limit}`;
}
