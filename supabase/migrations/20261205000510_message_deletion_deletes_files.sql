-- Deleting a message deletes its attached files: in the same transaction as the message's soft delete, each
-- live file attached to it (and to no other live message) is marked deleted and a file.deleted event is
-- enqueued, so a crash cannot leave a live row for a dead message. The objects then have no live row; the
-- storage sweeper removes them (npm run storage:sweep -- --apply).
--
-- Rolled back by supabase/rollbacks/20261205000510_message_deletion_deletes_files.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

/** After a message's deleted_at is set: deletes the files only it carried. Security definer so a member who
    lost storage.write still leaves no live file behind; it touches only files attached to this message. */
create function app.delete_files_of_deleted_message() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  file record;
begin
  for file in
    update public.files f set deleted_at = now()
    where f.deleted_at is null
      and f.id in (select a.file_id from public.message_attachments a where a.message_id = new.id)
      and not exists (
        select 1 from public.message_attachments other
        join public.messages m on m.id = other.message_id
        where other.file_id = f.id and other.message_id <> new.id and m.deleted_at is null)
    returning f.id, f.team_id, f.owner_id, f.bucket, f.object_key, f.deleted_at
  loop
    perform app.enqueue_event('file.deleted', 'file', file.id::text,
      jsonb_build_object('file_id', file.id, 'team_id', file.team_id, 'owner_id', file.owner_id, 'bucket', file.bucket,
        'object_key', file.object_key, 'deleted_at', to_char(file.deleted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
      current_setting('request.jwt.claims', true)::jsonb ->> 'request_id');
  end loop;
  return null;
end
$$;
revoke all on function app.delete_files_of_deleted_message() from public, anon, authenticated;

create trigger messages_delete_attached_files after update of deleted_at on public.messages
  for each row when (old.deleted_at is null and new.deleted_at is not null)
  execute function app.delete_files_of_deleted_message();
