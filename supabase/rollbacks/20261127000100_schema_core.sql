-- Rollback of 20261127000100_schema_core.sql: removes everything it created, in reverse order.
-- scripts/migrate.sh down runs this and deletes the ledger row in the same transaction.

drop trigger if exists on_auth_user_created on auth.users;

-- one statement, so the tables' mutual references and policies need no particular order
drop table if exists public.outbox_events, public.audit_log, public.messages, public.channels,
  public.team_members, public.teams, public.profiles;

drop type if exists public.team_role cascade;
drop schema if exists app cascade;
