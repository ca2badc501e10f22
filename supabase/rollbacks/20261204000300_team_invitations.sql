-- Rollback of 20261204000300_team_invitations.sql: no invitations; owners and admins add members directly
-- again (the team_members insert policy and app.team_invitee_id as 20261204000100 left them).

drop function app.expire_team_invitations();
drop function app.my_invitations();
drop function app.leave_team(uuid, text);
drop function app.revoke_invitation(uuid, uuid, text);
drop function app.respond_to_invitation(uuid, boolean, text);
drop function app.invite_to_team(uuid, text, public.team_role, interval, text);
drop function app.record_team_step(text, uuid, jsonb, text, text, text, jsonb);
drop table public.team_invitations;
drop function app.current_person_email();
drop function app.guard_team_invitation();
drop trigger team_members_keep_an_owner on public.team_members;
drop function app.guard_last_owner();

delete from app.event_types where event_type in
  ('team.invitation_created', 'team.invitation_accepted', 'team.invitation_declined', 'team.invitation_revoked',
   'team.member_left');
delete from public.capabilities where name = 'team.leave';

grant insert on public.team_members to authenticated;
create policy "Holders of member.invite add members; owners only with member.role.manage" on public.team_members
  for insert to authenticated
  with check (
    team_id in (select app.teams_with_capability('member.invite'))
    and (role <> 'owner' or team_id in (select app.teams_with_capability('member.role.manage')))
  );

/** The account id behind an email address, for an owner or admin of target_team; null for anyone else and
    for an address nobody signed up with. Security definer: it reads profiles past RLS, so it answers only
    the one question, and only to the people allowed to add members. */
create function app.team_invitee_id(target_team uuid, invitee_email text) returns uuid
language sql stable
security definer
set search_path = ''
as $$
  select p.id
  from public.profiles p
  where lower(p.email) = lower(invitee_email)
    and app.has_capability(target_team, 'member.invite')
$$;
revoke all on function app.team_invitee_id(uuid, text) from public, anon;
grant execute on function app.team_invitee_id(uuid, text) to authenticated, service_role;
