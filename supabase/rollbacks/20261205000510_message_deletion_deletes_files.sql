-- Rollback of 20261205000510_message_deletion_deletes_files.sql: message deletion no longer touches files.
drop trigger if exists messages_delete_attached_files on public.messages;
drop function if exists app.delete_files_of_deleted_message();
