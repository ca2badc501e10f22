-- The migrations revoke what a Supabase project grants by itself. The compat bootstrap reproduces Supabase's
-- default privileges (anon, authenticated and service_role get ALL on every new table, sequence and function
-- in public), so this file lists from the catalog every table, view, sequence and function in public and app
-- and fails on any privilege anon holds (it must hold none: the gateway never acts as anon) and on any
-- privilege of authenticated that the allow-list below does not name. Objects of extensions (pgtap, ...) are
-- not ours and are skipped. A new grant to authenticated is one commented line in the allow-list.
begin;
select plan(5);
set local search_path = public;

-- ---------------------------------------------------------------------------------------------------------
-- The database under test grants what a Supabase project grants (else the checks below prove nothing)
-- ---------------------------------------------------------------------------------------------------------
create table public.privilege_probe (id bigint generated always as identity);
create function public.privilege_probe_fn() returns int language sql as 'select 1';
select ok(
  has_table_privilege('anon', 'public.privilege_probe', 'select, insert, update, delete')
    and has_table_privilege('authenticated', 'public.privilege_probe', 'select, insert, update, delete'),
  'a new table in public is granted to anon and authenticated, as in a Supabase project');
select ok(
  has_sequence_privilege('anon', pg_get_serial_sequence('public.privilege_probe', 'id'), 'usage, select, update')
    and has_function_privilege('anon', 'public.privilege_probe_fn()', 'execute'),
  'so are a new sequence and a new function');
drop table public.privilege_probe;
drop function public.privilege_probe_fn();

-- ---------------------------------------------------------------------------------------------------------
-- What anon and authenticated hold: one row per (role, object, privilege)
-- ---------------------------------------------------------------------------------------------------------
create temporary view api_role_privileges as
with roles (role) as (values ('anon'), ('authenticated')),
ours as (
  -- objects of the application's schemas that no extension owns
  select c.oid, c.relkind, format('%s %I.%I', case c.relkind when 'S' then 'sequence' when 'v' then 'view'
           when 'm' then 'view' else 'table' end, n.nspname, c.relname) as object
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname in ('public', 'app') and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
    and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
),
relation_privileges as (
  select r.role, o.object, p.privilege
  from roles r cross join ours o
  cross join lateral unnest(case when o.relkind = 'S' then array['USAGE', 'SELECT', 'UPDATE']
    else array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] end) as p (privilege)
  where case when o.relkind = 'S' then has_sequence_privilege(r.role, o.oid, p.privilege)
    else has_table_privilege(r.role, o.oid, p.privilege) end
),
column_privileges as (
  -- column grants, where the role lacks the privilege on the whole table
  select r.role, o.object, format('%s (%s)', p.privilege, string_agg(a.attname, ', ' order by a.attnum)) as privilege
  from roles r cross join ours o
  join pg_attribute a on a.attrelid = o.oid and a.attnum > 0 and not a.attisdropped
  cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) as p (privilege)
  where o.relkind <> 'S' and not has_table_privilege(r.role, o.oid, p.privilege)
    and has_column_privilege(r.role, o.oid, a.attnum, p.privilege)
  group by r.role, o.object, p.privilege
),
function_privileges as (
  select r.role, format('function %I.%I(%s)', n.nspname, f.proname, oidvectortypes(f.proargtypes)) as object,
    'EXECUTE' as privilege
  from roles r cross join pg_proc f join pg_namespace n on n.oid = f.pronamespace
  where n.nspname in ('public', 'app')
    and not exists (select from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = f.oid and d.deptype = 'e')
    and has_function_privilege(r.role, f.oid, 'EXECUTE')
)
select * from relation_privileges union all select * from column_privileges union all select * from function_privileges;

-- ---------------------------------------------------------------------------------------------------------
-- The allow-list: every privilege authenticated (the gateway's role for a user request) may hold, and why.
-- RLS narrows each table grant to the caller's own rows. Add one line per new grant; remove it with the grant.
-- ---------------------------------------------------------------------------------------------------------
create temporary table authenticated_may (object text, privilege text, primary key (object, privilege));
insert into authenticated_may (object, privilege) values
  ('table public.profiles', 'SELECT'),                              -- own and teammates' profiles (names in member lists)
  ('table public.profiles', 'UPDATE (display_name)'),               -- a user renames themself; nothing else of a profile
  ('table public.teams', 'SELECT'),                                 -- the teams one belongs to or created
  ('table public.teams', 'INSERT'),                                 -- anyone signed in founds a team (and becomes its owner)
  ('table public.teams', 'UPDATE (name)'),                          -- owners and admins rename their team
  ('table public.team_members', 'SELECT'),                          -- who else is in one's teams
  ('table public.team_members', 'UPDATE (role)'),                   -- owners change roles
  ('table public.team_members', 'DELETE'),                          -- owners and admins remove members; members leave
  ('table public.channels', 'SELECT'),                              -- one's teams' channels
  ('table public.channels', 'INSERT'),                              -- members create channels
  ('table public.channels', 'UPDATE (name, topic, archived_at)'),   -- creators, owners and admins rename or archive
  ('table public.messages', 'SELECT'),                              -- messages of one's teams' channels
  ('table public.messages', 'INSERT'),                              -- members post as themselves
  ('table public.messages', 'UPDATE (body, edited_at, deleted_at)'), -- authors edit and soft-delete their own
  ('table public.audit_log', 'SELECT'),                             -- owners and admins read their team's log
  ('function app.current_user_team_ids()', 'EXECUTE'),              -- used by the policies above
  ('function app.has_team_role(uuid, team_role[])', 'EXECUTE'),     -- used by the policies above
  ('function app.record_audit(text, text, text, uuid, text, jsonb)', 'EXECUTE'),        -- the only way into the audit log
  ('function app.enqueue_event(text, text, text, jsonb, text, integer)', 'EXECUTE'),    -- the only way into the outbox
  -- capabilities, bundles and access keys (20261204000100)
  ('table public.capabilities', 'SELECT'),                          -- the catalog, public to every principal
  ('table public.bundles', 'SELECT'),                               -- the bundles, likewise
  ('table public.bundle_capabilities', 'SELECT'),                   -- what each bundle holds, likewise
  ('table public.team_role_bundles', 'SELECT'),                     -- members see their team's role grants
  ('table public.team_role_bundles', 'INSERT (team_id, role, bundle, granted_by)'), -- holders of grant.manage grant
  ('table public.team_role_bundles', 'DELETE'),                     -- holders of grant.manage revoke
  ('table public.service_principals', 'SELECT'),                    -- members see their team's agents and integrations
  ('table public.access_keys', 'SELECT (id, principal_id, team_id, bundle, name, environment, display_prefix, created_by, created_at, expires_at, revoked_at, revoked_by, last_used_at, rotated_from)'), -- key.manage holders list keys, never the hash
  ('function app.teams_with_capability(text)', 'EXECUTE'),          -- used by the policies
  ('function app.has_capability(uuid, text)', 'EXECUTE'),           -- the SQL twin of the PEP, for handlers
  ('function app.acting_as_key()', 'EXECUTE'),                      -- used by the teams insert policy
  ('function app.create_service_principal(uuid, text, text)', 'EXECUTE'), -- key.manage holders create agents and integrations
  ('function app.create_access_key(uuid, uuid, text, text, text, bytea, text, timestamp with time zone, uuid)', 'EXECUTE'), -- and their keys (hash only)
  ('function app.rotate_access_key(uuid, bytea, text, timestamp with time zone, interval)', 'EXECUTE'), -- rotate them
  ('function app.revoke_access_key(uuid)', 'EXECUTE'),              -- and revoke them
  -- projects and tasks (20261205000400): RLS by project.read / task.write / project.manage
  ('table public.projects', 'SELECT'),                              -- holders of project.read see projects
  ('table public.projects', 'INSERT (team_id, name, description, created_by)'), -- project.manage creates
  ('table public.projects', 'UPDATE (name, description, archived_at)'), -- project.manage renames and archives
  ('table public.tasks', 'SELECT'),                                 -- holders of project.read see tasks
  ('table public.tasks', 'INSERT (project_id, team_id, title, description, position, due_on, labels, source_message_id, created_by)'), -- task.write creates
  ('table public.tasks', 'UPDATE (title, description, status, position, due_on, labels)'), -- task.write edits and moves (trigger checks the step)
  ('table public.task_assignees', 'SELECT'),                        -- who works on what
  ('table public.task_assignees', 'INSERT (task_id, team_id, assignee_id, assigned_by)'), -- task.write assigns
  ('table public.task_assignees', 'DELETE'),                        -- task.write unassigns
  -- governance (20261205000410): the state machine's steps beyond cancel belong to the scheduler
  ('table public.governance_settings', 'SELECT'),                   -- members see how their team decides
  ('table public.proposals', 'SELECT'),                             -- voters see proposals
  ('table public.proposals', 'INSERT (team_id, kind, title, body, action, created_by)'), -- governance.propose (window and thresholds set by trigger)
  ('table public.proposals', 'UPDATE (state)'),                     -- cancel only (policy and trigger)
  ('table public.votes', 'SELECT'),                                 -- ballots, for a re-runnable tally
  ('table public.votes', 'INSERT (proposal_id, team_id, voter_id, choice)'), -- governance.vote casts
  ('table public.votes', 'UPDATE (choice)'),                        -- and changes it until close
  ('view public.proposal_tallies', 'SELECT'),                       -- the tally (security invoker)
  ('function app.team_stake_at(uuid, timestamp with time zone)', 'EXECUTE'), -- the tally's electorate by stake (one sum, 20261205001310)
  -- feature flags (20261205000600)
  ('function app.is_platform_admin()', 'EXECUTE'),                  -- whether the caller may change flags
  ('function app.put_feature_flag(text, jsonb, bigint, text)', 'EXECUTE'), -- platform admins change flags (checked inside)
  -- Embassy outbound redeliver (20261205000900)
  ('function app.redeliver_embassy_outbound(uuid, text)', 'EXECUTE'), -- platform admins redeliver a dead webhook (checked inside)
  -- team invitations (20261204000300): members join by accepting; the functions check the caller themselves
  ('table public.team_invitations', 'SELECT'),                      -- inviters see their team's, invitees their own
  ('function app.current_person_email()', 'EXECUTE'),               -- used by the invitee's policy
  ('function app.invite_to_team(uuid, text, team_role, interval, text)', 'EXECUTE'), -- holders of member.invite invite
  ('function app.my_invitations()', 'EXECUTE'),                     -- the invitee lists theirs, with the team's name
  ('function app.respond_to_invitation(uuid, boolean, text)', 'EXECUTE'), -- the invitee accepts or declines
  ('function app.revoke_invitation(uuid, uuid, text)', 'EXECUTE'),  -- holders of member.invite revoke
  ('function app.leave_team(uuid, text)', 'EXECUTE'),               -- a member leaves (not the last owner)
  -- agents and their runs (20261205000100)
  ('table public.agents', 'SELECT'),                                -- holders of agent.read see their team's agents
  ('table public.agents', 'UPDATE (config, enabled, run_timeout_seconds, updated_at)'), -- holders of agent.manage reconfigure them
  ('table public.agent_runs', 'SELECT'),                            -- holders of agent.read see their team's runs
  ('table public.agent_run_steps', 'SELECT'),                       -- and their steps
  ('function app.register_agent(uuid, text, text, jsonb, text, integer, text)', 'EXECUTE'), -- agent.manage holders register agents
  ('function app.start_agent_run(uuid, uuid, jsonb, text, uuid)', 'EXECUTE'), -- agent.run holders start runs
  ('function app.cancel_agent_run(uuid)', 'EXECUTE'),               -- a run's starter or agent.manage holders cancel it
  ('function app.resolve_agent_run_action(uuid, boolean, text)', 'EXECUTE'), -- and approve or reject its pending action
  -- Embassy and RWA (20261205000300)
  ('table public.embassies', 'SELECT'),                             -- the partner catalog (secret names only, no secrets)
  ('table public.embassy_team_links', 'SELECT'),                    -- rwa.read holders see their team's partners
  ('table public.embassy_team_links', 'INSERT (partner, team_id, linked_by)'), -- embassy.manage holders link partners
  ('table public.embassy_team_links', 'DELETE'),                    -- and unlink them
  ('table public.rwa_inventory', 'SELECT'),                         -- rwa.read holders read their team's inventory
  ('table public.rwa_movements', 'SELECT'),                         -- and its history
  -- storage (20261205000500)
  ('table public.files', 'SELECT'),                                  -- holders of storage.read see their team's files
  ('table public.files', 'INSERT (team_id, owner_id, bucket, object_key, name, declared_type, size_bytes, sha256, upload_expires_at)'), -- uploaders start an upload (pending)
  ('table public.files', 'UPDATE (content_type, status, reject_reason, stored_at, deleted_at)'), -- uploaders confirm, reject and delete their own
  ('table public.message_attachments', 'SELECT'),                    -- attachments of one's teams' messages
  ('table public.message_attachments', 'INSERT (message_id, file_id, team_id)'), -- authors attach their own stored files
  ('function app.team_storage_bytes(uuid)', 'EXECUTE'),              -- the quota check
  ('function app.lock_team_storage(uuid)', 'EXECUTE'),               -- serialises it per team
  -- wallet: payouts, ledger, staking (20261205000700); writes only through the functions, which check capabilities
  ('table public.wallets', 'SELECT'),                               -- wallet.read holders see their team's wallets
  ('table public.wallet_settings', 'SELECT'),                       -- and its approval threshold
  ('table public.payouts', 'SELECT (id, team_id, requested_by, chain_id, token, recipient, amount, memo, idempotency_key, request_hash, status, signer, nonce, tx_hash, block_number, confirmations, attempts, last_error, created_at, updated_at, approved_at, submitted_at, finished_at, safe_address, safe_nonce, proposal_id)'), -- payouts (and the proposal that approved one), never the signed tx
  ('table public.payout_approvals', 'SELECT'),                      -- who approved
  ('table public.ledger_transactions', 'SELECT'),                   -- the credit ledger
  ('table public.ledger_entries', 'SELECT'),                        -- its entries (balances)
  ('table public.staking_ringk', 'SELECT'),                         -- stakes
  ('table public.staking_ringk_history', 'SELECT'),                 -- their history
  ('function app.request_payout(uuid, bigint, text, text, numeric, text, text, text)', 'EXECUTE'), -- payout.propose holders
  ('function app.approve_payout(uuid)', 'EXECUTE'),                 -- payout.approve holders
  ('function app.cancel_payout(uuid)', 'EXECUTE'),                  -- requester or payout.approve holders
  ('function app.set_payout_threshold(uuid, integer)', 'EXECUTE'),  -- wallet.manage holders
  ('function app.grant_credits(uuid, uuid, numeric, text)', 'EXECUTE'), -- wallet.manage holders
  ('function app.stake_ringk(uuid, numeric, integer)', 'EXECUTE'),  -- stake.manage holders, their own credits
  ('function app.unstake_ringk(uuid)', 'EXECUTE'),                  -- and withdraw them after the lock
  -- chain tokens (20261205000710): written by the launcher and the wallet worker only
  ('table public.chain_tokens', 'SELECT'),                         -- every signed-in person reads the token list
  -- Safe treasuries (20261205001110)
  ('table public.chain_contracts', 'SELECT'),                      -- the Safe singleton and factory per chain
  ('function app.register_member_wallet(uuid, bigint, text)', 'EXECUTE'), -- a member registers their own address
  ('function app.set_safe_treasury(uuid, bigint, text)', 'EXECUTE'), -- wallet.manage holders
  ('function app.approve_safe_payout(uuid, text, text)', 'EXECUTE'), -- payout.approve holders, with their signature
  -- Gift Fabric (20261205001200): sent through the function (gift.send), applied by the consumer only
  ('table public.gifts', 'SELECT (id, team_id, sender_id, recipient_id, amount, memo, status, refusal_reason, ledger_transaction_id, created_at, finished_at)'), -- wallet.read holders read the feed, never the keys
  ('function app.send_gift(uuid, uuid, numeric, text, text, text)', 'EXECUTE'); -- gift.send holders, their own credits

-- ---------------------------------------------------------------------------------------------------------
-- The checks
-- ---------------------------------------------------------------------------------------------------------
select is_empty(
  $$select object, privilege from api_role_privileges where role = 'anon' order by 1, 2$$,
  'anon holds no privilege on any table, view, sequence or function in public or app');

select is_empty(
  $$select object, privilege from api_role_privileges where role = 'authenticated'
    except select object, privilege from authenticated_may order by 1, 2$$,
  'authenticated holds no privilege in public or app beyond the allow-list');

select is_empty(
  $$select object, privilege from authenticated_may
    except select object, privilege from api_role_privileges where role = 'authenticated' order by 1, 2$$,
  'every line of the allow-list is a privilege authenticated holds (so the listing is not blind; drop lines whose grant was revoked)');

select * from finish();
rollback;
