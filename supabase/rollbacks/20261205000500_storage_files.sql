-- Rollback of 20261205000500_storage_files.sql: the file tables, their functions, events and capability.
-- The objects in the buckets stay; list them with the sweeper before rolling back if they must go too.
drop table if exists public.message_attachments;
drop table if exists public.files;
drop function if exists app.guard_file_transition();
drop function if exists app.team_storage_bytes(uuid);
drop function if exists app.lock_team_storage(uuid);
delete from app.event_types where event_type in ('file.stored', 'file.rejected', 'file.deleted');
delete from public.bundle_capabilities where capability = 'storage.read';
delete from public.capabilities where name = 'storage.read';
