-- Team membership by invitation: nobody joins a team without saying yes. An inviter (member.invite) invites an
-- email address; the account signed in with that address sees the invitation and accepts or declines it; the
-- inviter may revoke it while it is pending; it expires on its own. A member leaves a team by themself, except
-- its last owner.
--
-- - `team_invitations` holds the invitations. Its state machine (pending → accepted | declined | revoked |
--   expired, nothing after) is a trigger, so no writer can move an invitation back or twice.
-- - Every change goes through a security-definer function (invite, respond, revoke, leave) that writes the
--   state change, its outbox event and its audit entry in one transaction. The functions write the event and
--   the audit entry themselves: an invitee who declines, and a member who has just left, belong to no team
--   app.enqueue_event would accept for them.
-- - No account enumeration: inviting an address answers the same whether or not an account uses it; the
--   email-to-account lookup (app.team_invitee_id) and the direct insert into team_members are gone.
-- - A team keeps at least one owner: a trigger refuses removing or demoting its last one, however it is tried.
--
-- Rolled back by supabase/rollbacks/20261204000300_team_invitations.sql.

-- =========================================================================================================
-- Capability and event types
-- =========================================================================================================
set local lock_timeout = '5s';
set local statement_timeout = '60s';

insert into public.capabilities (name, scope, privileged, description) values
  ('team.leave', 'account', false, 'Leave a team one belongs to (its last owner cannot)');

insert into app.event_types (event_type, aggregate_type) values
  ('team.invitation_created', 'team'),
  ('team.invitation_accepted', 'team'),
  ('team.invitation_declined', 'team'),
  ('team.invitation_revoked', 'team'),
  ('team.member_left', 'team')
on conflict do nothing;

-- =========================================================================================================
-- Invitations
-- =========================================================================================================

/** An invitation of an email address to a team, with the role it grants when accepted. The address is kept in
    lower case; at most one pending invitation per team and address. */
create table public.team_invitations (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  email text not null check (email = lower(email) and char_length(email) between 3 and 254 and email like '%_@_%'),
  role public.team_role not null default 'member',
  invited_by uuid not null references public.profiles (id) on delete cascade,
  status text not null default 'pending' check (status in ('pending', 'accepted', 'declined', 'revoked', 'expired')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  responded_at timestamptz,
  -- who accepted or declined (the invitee's account), who revoked (an inviter)
  responded_by uuid references public.profiles (id) on delete set null,
  check (expires_at > created_at and expires_at <= created_at + interval '31 days'),
  check ((status = 'pending') = (responded_at is null))
);
create unique index team_invitations_one_pending_key on public.team_invitations (team_id, email) where status = 'pending';
create index team_invitations_email_idx on public.team_invitations (email) where status = 'pending';

/** The state machine: only a pending invitation changes, and only to a final state; its facts never change. */
create function app.guard_team_invitation() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status <> 'pending' then
    raise exception 'invitation % is % and cannot change any more', old.id, old.status using errcode = '23514';
  end if;
  if new.status = 'pending' then
    -- a renewed invitation: a new role, inviter or expiry, nothing else
    if (new.id, new.team_id, new.email, new.created_at) is distinct from (old.id, old.team_id, old.email, old.created_at) then
      raise exception 'a pending invitation is renewed, never moved to another team or address' using errcode = '23514';
    end if;
    return new;
  end if;
  if (new.id, new.team_id, new.email, new.role, new.invited_by, new.expires_at)
     is distinct from (old.id, old.team_id, old.email, old.role, old.invited_by, old.expires_at) then
    raise exception 'answering an invitation changes its status only' using errcode = '23514';
  end if;
  return new;
end
$$;
create trigger team_invitations_guard before update on public.team_invitations
  for each row execute function app.guard_team_invitation();

-- =========================================================================================================
-- A team keeps an owner
-- =========================================================================================================

/** Refuses removing or demoting a team's last owner for every API caller (through a function or straight
    SQL); workers and operators (service_role, the database owner) may, and deleting the team itself still
    removes every member. */
create function app.guard_last_owner() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.role <> 'owner' or (tg_op = 'UPDATE' and new.role = 'owner') or not app.caller_is_api_client() then
    return coalesce(new, old);
  end if;
  -- the team is being deleted (its members go by cascade)
  if not exists (select 1 from public.teams t where t.id = old.team_id) then
    return old;
  end if;
  perform 1 from public.teams t where t.id = old.team_id for update; -- two owners leaving at once: one waits
  if not exists (
    select 1 from public.team_members tm
    where tm.team_id = old.team_id and tm.role = 'owner' and tm.user_id <> old.user_id
  ) then
    raise exception 'the last owner of team % cannot leave or step down; make someone else owner first', old.team_id
      using errcode = '23514';
  end if;
  return coalesce(new, old);
end
$$;
create trigger team_members_keep_an_owner before delete or update of role on public.team_members
  for each row execute function app.guard_last_owner();

-- =========================================================================================================
-- The invitation flow (security definer: each checks the caller itself and writes state, event and audit)
-- =========================================================================================================

/** The signed-in person's email address, lower case; null for a key (a service principal is never invited). */
create function app.current_person_email() returns text
language sql stable
security definer
set search_path = ''
as $$
  select lower(p.email) from public.profiles p
  where p.id = (select auth.uid()) and not (select app.acting_as_key()) and p.email <> ''
$$;

/** Writes one outbox event and one audit entry for an invitation step; the caller is the actor. */
create function app.record_team_step(
  step_event text, step_team uuid, step_payload jsonb, target_type text, target_id text, request_id text,
  details jsonb
) returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.outbox_events (event_type, aggregate_type, aggregate_id, payload, correlation_id)
  values (step_event, 'team', step_team::text, step_payload, request_id);
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
  values ((select auth.uid()), step_team, step_event, target_type, target_id, request_id, details);
$$;

/** Invites `invitee_email` to `target_team` with `invited_role` for `valid_for`. Outcomes: `invited` (a new
    invitation, or the pending one renewed: same id), `already_member`, `not_allowed` (the caller lacks
    member.invite, or member.role.manage for an owner). The answer does not depend on whether an account uses
    the address, unless that account is already in the team (which the inviter can see anyway). */
create function app.invite_to_team(
  target_team uuid, invitee_email text, invited_role public.team_role, valid_for interval, request_id text
) returns table (outcome text, invitation_id uuid)
language plpgsql
security definer
set search_path = ''
as $$
declare
  address text := lower(trim(invitee_email));
  found_id uuid;
  expiry timestamptz;
begin
  if not app.has_capability(target_team, 'member.invite') or app.acting_as_key()
     or (invited_role = 'owner' and not app.has_capability(target_team, 'member.role.manage')) then
    return query select 'not_allowed', null::uuid;
    return;
  end if;
  if valid_for is null or valid_for <= interval '0' or valid_for > interval '30 days' then
    raise exception 'an invitation is valid for more than 0 and at most 30 days' using errcode = '22023';
  end if;
  if exists (
    select 1 from public.team_members tm join public.profiles p on p.id = tm.user_id
    where tm.team_id = target_team and lower(p.email) = address
  ) then
    return query select 'already_member', null::uuid;
    return;
  end if;
  expiry := now() + valid_for;
  -- a pending invitation past its expiry is closed first, so the address can be invited anew
  update public.team_invitations set status = 'expired', responded_at = now()
  where team_id = target_team and email = address and status = 'pending' and expires_at <= now();
  update public.team_invitations
  set role = invited_role, invited_by = (select auth.uid()), expires_at = least(expiry, created_at + interval '31 days')
  where team_id = target_team and email = address and status = 'pending'
  returning id into found_id;
  if found_id is null then
    insert into public.team_invitations (team_id, email, role, invited_by, expires_at)
    values (target_team, address, invited_role, (select auth.uid()), expiry)
    on conflict (team_id, email) where status = 'pending' do nothing
    returning id into found_id;
    if found_id is null then -- a concurrent invite of the same address won: renew that one
      select i.id into found_id from public.team_invitations i
      where i.team_id = target_team and i.email = address and i.status = 'pending';
    end if;
  end if;
  perform app.record_team_step(
    'team.invitation_created', target_team,
    jsonb_build_object('team_id', target_team, 'invitation_id', found_id, 'role', invited_role,
                       'invited_by', (select auth.uid())),
    'team_invitation', found_id::text, request_id, jsonb_build_object('role', invited_role));
  return query select 'invited', found_id;
end
$$;

/** Accepts (`accept`) or declines an invitation addressed to the signed-in person's email. Outcomes:
    `accepted` (now a member; an existing membership is kept as it is), `declined`, `not_found` (no invitation
    with this id for this address), `expired` (closed now if it was still pending), `not_pending` (already
    answered or revoked). */
create function app.respond_to_invitation(target uuid, accept boolean, request_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := (select auth.uid());
  invitation public.team_invitations;
begin
  select * into invitation from public.team_invitations i
  where i.id = target and i.email = app.current_person_email()
  for update;
  if invitation.id is null then
    return 'not_found';
  end if;
  if invitation.status = 'expired' or (invitation.status = 'pending' and invitation.expires_at <= now()) then
    update public.team_invitations set status = 'expired', responded_at = now() where id = target and status = 'pending';
    return 'expired';
  end if;
  if invitation.status <> 'pending' then
    return 'not_pending';
  end if;
  update public.team_invitations
  set status = case when accept then 'accepted' else 'declined' end, responded_at = now(), responded_by = me
  where id = target;
  if not accept then
    perform app.record_team_step(
      'team.invitation_declined', invitation.team_id,
      jsonb_build_object('team_id', invitation.team_id, 'invitation_id', target),
      'team_invitation', target::text, request_id, '{}'::jsonb);
    return 'declined';
  end if;
  insert into public.team_members (team_id, user_id, role) values (invitation.team_id, me, invitation.role)
  on conflict (team_id, user_id) do nothing;
  perform app.record_team_step(
    'team.invitation_accepted', invitation.team_id,
    jsonb_build_object('team_id', invitation.team_id, 'invitation_id', target, 'user_id', me),
    'team_invitation', target::text, request_id, jsonb_build_object('role', invitation.role));
  -- the membership event every consumer (and the live stream) already knows
  perform app.record_team_step(
    'team.member_added', invitation.team_id,
    jsonb_build_object('team_id', invitation.team_id, 'user_id', me, 'role', invitation.role,
                       'added_by', invitation.invited_by),
    'team_member', me::text, request_id, jsonb_build_object('role', invitation.role, 'invitation_id', target));
  return 'accepted';
end
$$;

/** Revokes a pending invitation of a team where the caller holds member.invite (an owner invitation needs
    member.role.manage too). Outcomes: `revoked`, `not_found`, `not_pending`, `not_allowed`. */
create function app.revoke_invitation(target_team uuid, target uuid, request_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  invitation public.team_invitations;
begin
  if not app.has_capability(target_team, 'member.invite') or app.acting_as_key() then
    return 'not_allowed';
  end if;
  select * into invitation from public.team_invitations i where i.id = target and i.team_id = target_team for update;
  if invitation.id is null then
    return 'not_found';
  end if;
  if invitation.role = 'owner' and not app.has_capability(target_team, 'member.role.manage') then
    return 'not_allowed';
  end if;
  if invitation.status <> 'pending' then
    return 'not_pending';
  end if;
  update public.team_invitations set status = 'revoked', responded_at = now(), responded_by = (select auth.uid())
  where id = target;
  perform app.record_team_step(
    'team.invitation_revoked', target_team,
    jsonb_build_object('team_id', target_team, 'invitation_id', target, 'revoked_by', (select auth.uid())),
    'team_invitation', target::text, request_id, '{}'::jsonb);
  return 'revoked';
end
$$;

/** The signed-in person leaves a team. Outcomes: `left`, `not_member`, `last_owner` (a team keeps an owner). */
create function app.leave_team(target_team uuid, request_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := (select auth.uid());
  my_role public.team_role;
begin
  perform 1 from public.teams t where t.id = target_team for update; -- serialises two owners leaving at once
  select tm.role into my_role from public.team_members tm where tm.team_id = target_team and tm.user_id = me;
  if my_role is null or app.acting_as_key() then
    return 'not_member';
  end if;
  if my_role = 'owner' and not exists (
    select 1 from public.team_members tm where tm.team_id = target_team and tm.role = 'owner' and tm.user_id <> me
  ) then
    return 'last_owner';
  end if;
  delete from public.team_members where team_id = target_team and user_id = me;
  perform app.record_team_step(
    'team.member_left', target_team, jsonb_build_object('team_id', target_team, 'user_id', me),
    'team_member', me::text, request_id, jsonb_build_object('role', my_role));
  return 'left';
end
$$;

/** The signed-in person's pending invitations, with the team's name and the inviter's display name (which
    they may not read otherwise: they are not in the team yet). */
create function app.my_invitations() returns table (
  id uuid, team_id uuid, team_name text, role public.team_role, invited_by_name text, created_at timestamptz,
  expires_at timestamptz
)
language sql stable
security definer
set search_path = ''
as $$
  select i.id, i.team_id, t.name, i.role, p.display_name, i.created_at, i.expires_at
  from public.team_invitations i
  join public.teams t on t.id = i.team_id
  join public.profiles p on p.id = i.invited_by
  where i.email = app.current_person_email() and i.status = 'pending' and i.expires_at > now()
  order by i.created_at, i.id
$$;

/** Closes every pending invitation past its expiry (a scheduler may call it; the flow also closes them lazily).
    Returns how many it closed. */
create function app.expire_team_invitations() returns integer
language sql
security definer
set search_path = ''
as $$
  with closed as (
    update public.team_invitations set status = 'expired', responded_at = now()
    where status = 'pending' and expires_at <= now()
    returning 1
  )
  select count(*)::integer from closed
$$;

-- =========================================================================================================
-- Row-level security: inviters see their team's invitations, invitees their own
-- =========================================================================================================
alter table public.team_invitations enable row level security;

create policy "Holders of member.invite see their team's invitations" on public.team_invitations
  for select to authenticated
  using (team_id in (select app.teams_with_capability('member.invite')));
create policy "People see the invitations addressed to their email" on public.team_invitations
  for select to authenticated
  using (email = (select app.current_person_email()));

-- =========================================================================================================
-- Adding a member without their consent is gone
-- =========================================================================================================
drop policy "Holders of member.invite add members; owners only with member.role.manage" on public.team_members;
revoke insert on public.team_members from authenticated;
drop function app.team_invitee_id(uuid, text);

-- =========================================================================================================
-- Privileges
-- =========================================================================================================
revoke all on public.team_invitations from public, anon, authenticated;
grant select on public.team_invitations to authenticated;
grant all on public.team_invitations to service_role;

revoke all on function app.guard_team_invitation(), app.guard_last_owner(), app.current_person_email(),
  app.record_team_step(text, uuid, jsonb, text, text, text, jsonb),
  app.invite_to_team(uuid, text, public.team_role, interval, text), app.respond_to_invitation(uuid, boolean, text),
  app.revoke_invitation(uuid, uuid, text), app.leave_team(uuid, text), app.my_invitations(),
  app.expire_team_invitations()
  from public, anon, authenticated;
grant execute on function app.current_person_email(), app.invite_to_team(uuid, text, public.team_role, interval, text),
  app.respond_to_invitation(uuid, boolean, text), app.revoke_invitation(uuid, uuid, text), app.leave_team(uuid, text),
  app.my_invitations()
  to authenticated, service_role;
grant execute on function app.expire_team_invitations() to service_role;
