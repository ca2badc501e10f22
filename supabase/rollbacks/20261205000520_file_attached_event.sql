-- Rollback of 20261205000520_file_attached_event.sql: the event type goes (its outbox rows stay as history).
delete from app.event_types where event_type = 'file.attached';
