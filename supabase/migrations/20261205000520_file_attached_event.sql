-- file.attached: enqueued when a stored file is attached to a message, so the channel's live viewers refetch the
-- message's files (the message itself was announced by message.created before its files were attached).
--
-- Rolled back by supabase/rollbacks/20261205000520_file_attached_event.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

insert into app.event_types (event_type, aggregate_type) values ('file.attached', 'file') on conflict do nothing;
