// SQL of access keys and role grants. Runs in the request's transaction, so RLS and the security-definer
// functions of migration 20261204000100 decide (they check key.manage / grant.manage and write the audit
// entries); the key itself never reaches the database, only its SHA-256.
import type { Tx } from '../../_shared/db.ts';

export interface AccessKeyRow {
  id: string;
  name: string;
  team_id: string;
  bundle: string;
  environment: string;
  display_prefix: string;
  principal: { id: string; kind: 'agent' | 'integration'; name: string };
  created_by: string | null;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  rotated_from: string | null;
}

const keyColumns = (tx: Tx) => tx`
  k.id, k.name, k.team_id, k.bundle, k.environment, k.display_prefix,
  jsonb_build_object('id', p.id, 'kind', p.kind, 'name', p.name) as principal,
  k.created_by, k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.rotated_from`;

export async function findKey(tx: Tx, keyId: string): Promise<AccessKeyRow | null> {
  const [row] = await tx<AccessKeyRow[]>`
    select ${keyColumns(tx)} from public.access_keys k join public.service_principals p on p.id = k.principal_id
    where k.id = ${keyId}`;
  return row ?? null;
}

/** A team's keys, newest first (RLS: holders of key.manage only). */
export function listTeamKeys(tx: Tx, teamId: string): Promise<AccessKeyRow[]> {
  return tx<AccessKeyRow[]>`
    select ${keyColumns(tx)} from public.access_keys k join public.service_principals p on p.id = k.principal_id
    where k.team_id = ${teamId}
    order by k.created_at desc, k.id`;
}

/** The service principal of the team with this id, if the caller can see it. */
export async function findPrincipal(tx: Tx, teamId: string, principalId: string): Promise<{ id: string } | null> {
  const [row] = await tx<{ id: string }[]>`
    select id from public.service_principals where id = ${principalId} and team_id = ${teamId}`;
  return row ?? null;
}

export async function createServicePrincipal(tx: Tx, p: { teamId: string; kind: 'agent' | 'integration'; name: string }): Promise<string> {
  const [row] = await tx<{ id: string }[]>`select app.create_service_principal(${p.teamId}, ${p.kind}, ${p.name}) as id`;
  return row!.id;
}

export interface NewKeyRecord {
  teamId: string;
  principalId: string;
  bundle: string;
  name: string;
  environment: string;
  hash: string;
  displayPrefix: string;
  expiresAt: string;
}

export async function insertKey(tx: Tx, key: NewKeyRecord): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    select app.create_access_key(${key.teamId}, ${key.principalId}, ${key.bundle}, ${key.name}, ${key.environment},
      decode(${key.hash}, 'hex'), ${key.displayPrefix}, ${key.expiresAt}::timestamptz) as id`;
  return row!.id;
}

/** The new key's id, or null when the old one is not a live key of a team the caller manages keys of. */
export async function rotateKey(
  tx: Tx,
  rotation: { oldKeyId: string; hash: string; displayPrefix: string; expiresAt: string; overlapSeconds: number },
): Promise<string | null> {
  const [row] = await tx<{ id: string | null }[]>`
    select app.rotate_access_key(${rotation.oldKeyId}, decode(${rotation.hash}, 'hex'), ${rotation.displayPrefix},
      ${rotation.expiresAt}::timestamptz, make_interval(secs => ${rotation.overlapSeconds})) as id`;
  return row?.id ?? null;
}

export async function revokeKey(tx: Tx, keyId: string): Promise<boolean> {
  const [row] = await tx<{ revoked: boolean }[]>`select app.revoke_access_key(${keyId}) as revoked`;
  return row?.revoked ?? false;
}

export interface RoleGrantRow {
  role: 'owner' | 'admin' | 'member';
  bundle: string;
  granted_by: string | null;
  granted_at: string;
}

export function listRoleGrants(tx: Tx, teamId: string): Promise<RoleGrantRow[]> {
  return tx<RoleGrantRow[]>`
    select role, bundle, granted_by, granted_at from public.team_role_bundles
    where team_id = ${teamId} order by role, bundle`;
}

/** Grants a role bundle to a team role; null when it was already granted. */
export async function insertRoleGrant(tx: Tx, grant: { teamId: string; role: string; bundle: string }): Promise<RoleGrantRow | null> {
  const [row] = await tx<RoleGrantRow[]>`
    insert into public.team_role_bundles (team_id, role, bundle, granted_by)
    values (${grant.teamId}, ${grant.role}, ${grant.bundle}, (select auth.uid()))
    on conflict do nothing
    returning role, bundle, granted_by, granted_at`;
  return row ?? null;
}

export async function deleteRoleGrant(tx: Tx, grant: { teamId: string; role: string; bundle: string }): Promise<boolean> {
  const rows = await tx`
    delete from public.team_role_bundles where team_id = ${grant.teamId} and role = ${grant.role} and bundle = ${grant.bundle}
    returning 1`;
  return rows.length > 0;
}

export interface BundleRow {
  name: string;
  description: string;
  granted_to: 'role' | 'key';
  capabilities: string[];
}

export async function findBundle(tx: Tx, name: string): Promise<BundleRow | null> {
  const [row] = await tx<
    BundleRow[]
  >`select name, description, granted_to, '{}'::text[] as capabilities from public.bundles where name = ${name}`;
  return row ?? null;
}

export function listBundles(tx: Tx): Promise<BundleRow[]> {
  return tx<BundleRow[]>`
    select b.name, b.description, b.granted_to,
      coalesce(array_agg(bc.capability order by bc.capability) filter (where bc.capability is not null), '{}') as capabilities
    from public.bundles b left join public.bundle_capabilities bc on bc.bundle = b.name
    group by b.name order by b.granted_to desc, b.name`;
}
