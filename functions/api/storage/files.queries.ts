// SQL of files and attachments; runs inside a user transaction, so RLS scopes every statement to the caller
// (storage.read to see, storage.write and ownership to change). The state machine itself lives in the
// migration's trigger; these statements only ever move pending rows.
import type { Tx } from '../../_shared/db.ts';

export interface FileRow {
  id: string;
  team_id: string;
  owner_id: string;
  bucket: string;
  object_key: string;
  name: string;
  declared_type: string;
  content_type: string | null;
  size_bytes: number;
  sha256: string;
  status: 'pending' | 'stored' | 'rejected';
  reject_reason: string | null;
  created_at: string;
  upload_expires_at: string;
  stored_at: string | null;
  deleted_at: string | null;
}

const columns = (tx: Tx) => tx`
  f.id, f.team_id, f.owner_id, f.bucket, f.object_key, f.name, f.declared_type, f.content_type,
  f.size_bytes::float8 as size_bytes, encode(f.sha256, 'hex') as sha256, f.status, f.reject_reason,
  f.created_at, f.upload_expires_at, f.stored_at, f.deleted_at`;

/** Bytes the team holds or has been promised, after taking the team's storage lock for this transaction. */
export async function lockedTeamUsage(tx: Tx, teamId: string): Promise<number> {
  await tx`select app.lock_team_storage(${teamId})`;
  const [row] = await tx<{ used: number }[]>`select app.team_storage_bytes(${teamId})::float8 as used`;
  return row?.used ?? 0;
}

export async function insertPendingFile(
  tx: Tx,
  file: {
    teamId: string;
    bucket: string;
    objectKey: string;
    name: string;
    declaredType: string;
    sizeBytes: number;
    sha256: string;
    ttlSeconds: number;
  },
): Promise<FileRow> {
  const [row] = await tx<FileRow[]>`
    with f as (
      insert into public.files (team_id, owner_id, bucket, object_key, name, declared_type, size_bytes, sha256, upload_expires_at)
      values (${file.teamId}, (select auth.uid()), ${file.bucket}, ${file.objectKey}, ${file.name}, ${file.declaredType},
        ${file.sizeBytes}, decode(${file.sha256}, 'hex'), now() + make_interval(secs => ${file.ttlSeconds}))
      returning *
    )
    select ${columns(tx)} from f`;
  return row!;
}

export async function findFile(tx: Tx, fileId: string): Promise<FileRow | null> {
  const [row] = await tx<FileRow[]>`select ${columns(tx)} from public.files f where f.id = ${fileId}`;
  return row ?? null;
}

/** pending → stored, for the caller's own live pending file; null if it is no longer pending. */
export async function markStored(tx: Tx, fileId: string, contentType: string): Promise<FileRow | null> {
  const [row] = await tx<FileRow[]>`
    with f as (
      update public.files set status = 'stored', content_type = ${contentType}, stored_at = now()
      where id = ${fileId} and status = 'pending' and deleted_at is null and owner_id = (select auth.uid())
      returning *
    )
    select ${columns(tx)} from f`;
  return row ?? null;
}

/** pending → rejected with its reason; null if it is no longer pending. */
export async function markRejected(tx: Tx, fileId: string, reason: string): Promise<FileRow | null> {
  const [row] = await tx<FileRow[]>`
    with f as (
      update public.files set status = 'rejected', reject_reason = ${reason}
      where id = ${fileId} and status = 'pending' and deleted_at is null and owner_id = (select auth.uid())
      returning *
    )
    select ${columns(tx)} from f`;
  return row ?? null;
}

/** Marks the caller's own file deleted; null if it is not theirs or already deleted. */
export async function markDeleted(tx: Tx, fileId: string): Promise<FileRow | null> {
  const [row] = await tx<FileRow[]>`
    with f as (
      update public.files set deleted_at = now()
      where id = ${fileId} and deleted_at is null and owner_id = (select auth.uid())
      returning *
    )
    select ${columns(tx)} from f`;
  return row ?? null;
}

/** Attaches a stored file to a message; the policy checks both are the caller's, in one team. False if refused. */
export async function insertAttachment(tx: Tx, attachment: { messageId: string; fileId: string; teamId: string }): Promise<boolean> {
  const rows = await tx`
    insert into public.message_attachments (message_id, file_id, team_id)
    select m.id, f.id, f.team_id
    from public.messages m join public.files f on f.team_id = m.team_id
    where m.id = ${attachment.messageId} and f.id = ${attachment.fileId} and f.team_id = ${attachment.teamId}
      and m.author_id = (select auth.uid()) and m.deleted_at is null
      and f.owner_id = (select auth.uid()) and f.status = 'stored' and f.deleted_at is null
    on conflict do nothing
    returning 1`;
  return rows.length > 0;
}

export async function messageVisible(tx: Tx, messageId: string): Promise<{ team_id: string; channel_id: string } | null> {
  const [row] = await tx<
    { team_id: string; channel_id: string }[]
  >`select team_id, channel_id from public.messages where id = ${messageId}`;
  return row ?? null;
}

/** The live stored files attached to a message, oldest attachment first. */
export function listMessageFiles(tx: Tx, messageId: string): Promise<FileRow[]> {
  return tx<FileRow[]>`
    select ${columns(tx)}
    from public.message_attachments a join public.files f on f.id = a.file_id
    where a.message_id = ${messageId} and f.status = 'stored' and f.deleted_at is null
    order by a.created_at, f.id
    limit 50`;
}
