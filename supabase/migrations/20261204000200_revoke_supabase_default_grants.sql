-- Revokes what a Supabase project grants by itself. Supabase's default privileges in public give anon,
-- authenticated and service_role ALL on every new table, sequence and function (always for objects
-- supabase_admin creates; for ours while a project has "Default privileges for new entities" on). The earlier
-- migrations revoke and grant each table and function on purpose but left the identity sequences behind the
-- tables (audit_log_id_seq, outbox_events_seq_seq) open: anon and authenticated could read, draw and reset
-- them. No API role needs a sequence privilege: an identity column draws its value without one, and the
-- outbox trigger draws under its own security-definer rights. service_role keeps its grants (workers).
-- supabase/tests/005_api_role_privileges.sql lists every privilege anon and authenticated hold in public and
-- app and fails on any outside its allow-list; later migrations revoke on the objects they create.
--
-- Rolled back by supabase/rollbacks/20261204000200_revoke_supabase_default_grants.sql.

-- Every sequence in public, including those of migrations 20261204000100_*. On a Supabase project a sequence
-- that supabase_admin owns would only draw a warning here; none of ours is one.
revoke all on all sequences in schema public from anon, authenticated;
