-- Team membership by invitation: nobody is added without accepting, inviting answers the same whether or not
-- an account uses the address, the invitation's state machine holds for every writer, each step leaves its
-- outbox event and audit entry, and a team keeps its last owner.
begin;
\ir helpers/authenticate.sql
select plan(30);

insert into auth.users (id, email) values
  ('c0000000-0000-4000-8000-000000000001', 'carol@a.test'),   -- owner of team A
  ('c0000000-0000-4000-8000-000000000002', 'bob@a.test'),     -- member of team A
  ('c0000000-0000-4000-8000-000000000003', 'Dave@Elsewhere.test'), -- invited
  ('c0000000-0000-4000-8000-000000000004', 'eve@elsewhere.test'),  -- nobody invited her
  ('c0000000-0000-4000-8000-000000000005', 'ada@a.test');     -- admin of team A
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000007', 'Team A', 'c0000000-0000-4000-8000-000000000001');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000007', 'c0000000-0000-4000-8000-000000000002', 'member'),
  ('aaaaaaaa-0000-4000-8000-000000000007', 'c0000000-0000-4000-8000-000000000005', 'admin');

create temporary table invited (who text primary key, outcome text, id uuid);
grant all on invited to authenticated;

-- ---------------------------------------------------------------------------------------------------------
-- Inviting
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('c0000000-0000-4000-8000-000000000001');
insert into invited select 'dave', * from app.invite_to_team('aaaaaaaa-0000-4000-8000-000000000007', ' DAVE@elsewhere.test ', 'member', '7 days', 'req-1');
insert into invited select 'nobody', * from app.invite_to_team('aaaaaaaa-0000-4000-8000-000000000007', 'nobody@elsewhere.test', 'member', '7 days', 'req-2');
select is((select outcome from invited where who = 'dave'), 'invited', 'an owner invites an address an account uses');
select is((select outcome from invited where who = 'nobody'), 'invited',
  'and one nobody uses, with the same answer (no account enumeration)');
select is(
  (select email from public.team_invitations where id = (select id from invited where who = 'dave')), 'dave@elsewhere.test',
  'the address is kept trimmed and in lower case');
select is(
  (select invitation_id from app.invite_to_team('aaaaaaaa-0000-4000-8000-000000000007', 'dave@elsewhere.test', 'admin', '3 days', 'req-3')),
  (select id from invited where who = 'dave'),
  'inviting a pending address again renews the same invitation');
select is(
  (select outcome from app.invite_to_team('aaaaaaaa-0000-4000-8000-000000000007', 'bob@a.test', 'member', '7 days', 'req-4')),
  'already_member', 'a member of the team is not invited');
select throws_ok(
  $$select * from app.invite_to_team('aaaaaaaa-0000-4000-8000-000000000007', 'x@y.test', 'member', '40 days', 'req-5')$$,
  '22023', null, 'an invitation is valid for at most 30 days');
select throws_ok(
  $$insert into public.team_members (team_id, user_id, role) values
    ('aaaaaaaa-0000-4000-8000-000000000007', 'c0000000-0000-4000-8000-000000000004', 'member')$$,
  '42501', null, 'even an owner cannot add someone to the team directly');
select throws_ok(
  $$insert into public.team_invitations (team_id, email, invited_by, expires_at) values
    ('aaaaaaaa-0000-4000-8000-000000000007', 'x@y.test', 'c0000000-0000-4000-8000-000000000001', now() + interval '1 day')$$,
  '42501', null, 'nor write an invitation except through the functions');

select tests.authenticate_as('c0000000-0000-4000-8000-000000000002');
select is(
  (select outcome from app.invite_to_team('aaaaaaaa-0000-4000-8000-000000000007', 'eve@elsewhere.test', 'member', '7 days', 'req-6')),
  'not_allowed', 'a plain member (no member.invite) cannot invite');
select is_empty($$select id from public.team_invitations$$, 'and sees none of the team''s invitations');

select tests.authenticate_as('c0000000-0000-4000-8000-000000000005');
select is(
  (select outcome from app.invite_to_team('aaaaaaaa-0000-4000-8000-000000000007', 'eve@elsewhere.test', 'owner', '7 days', 'req-7')),
  'not_allowed', 'an admin cannot invite an owner (member.role.manage)');

-- ---------------------------------------------------------------------------------------------------------
-- Answering
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('c0000000-0000-4000-8000-000000000004');
select is_empty($$select id from public.team_invitations$$, 'someone not invited sees no invitation');
select is(app.respond_to_invitation((select id from invited where who = 'dave'), true, 'req-8'), 'not_found',
  'and cannot accept another person''s invitation');

select tests.authenticate_as('c0000000-0000-4000-8000-000000000003');
select results_eq(
  $$select team_id, role::text, status from public.team_invitations$$,
  $$values ('aaaaaaaa-0000-4000-8000-000000000007'::uuid, 'admin', 'pending')$$,
  'the invitee sees the invitation addressed to their email (whatever its case)');
select is(app.respond_to_invitation((select id from invited where who = 'dave'), true, 'req-9'), 'accepted',
  'the invitee accepts');
select results_eq(
  $$select role::text from public.team_members where team_id = 'aaaaaaaa-0000-4000-8000-000000000007' and user_id = 'c0000000-0000-4000-8000-000000000003'$$,
  $$values ('admin')$$, 'and is a member with the invited role');
select is(app.respond_to_invitation((select id from invited where who = 'dave'), false, 'req-10'), 'not_pending',
  'an answered invitation cannot be answered again');

select tests.clear_authentication();
select results_eq(
  $$select event_type, payload ->> 'user_id', correlation_id from public.outbox_events where correlation_id = 'req-9' order by seq$$,
  $$values ('team.invitation_accepted', 'c0000000-0000-4000-8000-000000000003', 'req-9'),
           ('team.member_added', 'c0000000-0000-4000-8000-000000000003', 'req-9')$$,
  'accepting writes team.invitation_accepted and team.member_added in the same transaction');
select results_eq(
  $$select action, actor_id from public.audit_log where request_id = 'req-9' order by id$$,
  $$values ('team.invitation_accepted', 'c0000000-0000-4000-8000-000000000003'::uuid),
           ('team.member_added', 'c0000000-0000-4000-8000-000000000003'::uuid)$$,
  'and audits both, by the invitee');
select throws_ok(
  format($$update public.team_invitations set status = 'pending', responded_at = null where id = %L$$, (select id from invited where who = 'dave')),
  '23514', null, 'the state machine holds for every writer: an accepted invitation never goes back to pending');

-- an invitation past its expiry (written as the owner of the data, with dates in the past)
insert into public.team_invitations (id, team_id, email, invited_by, created_at, expires_at) values
  ('e0000000-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000007', 'eve@elsewhere.test',
   'c0000000-0000-4000-8000-000000000001', now() - interval '3 days', now() - interval '1 day');
select tests.authenticate_as('c0000000-0000-4000-8000-000000000004');
select is(app.respond_to_invitation('e0000000-0000-4000-8000-000000000001', true, 'req-11'), 'expired',
  'an invitation past its expiry cannot be accepted');
select results_eq($$select status from public.team_invitations where id = 'e0000000-0000-4000-8000-000000000001'$$,
  $$values ('expired')$$, 'and is closed as expired');

-- ---------------------------------------------------------------------------------------------------------
-- Revoking and declining
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('c0000000-0000-4000-8000-000000000001');
insert into invited select 'eve', * from app.invite_to_team('aaaaaaaa-0000-4000-8000-000000000007', 'eve@elsewhere.test', 'member', '7 days', 'req-12');
select is(app.revoke_invitation('aaaaaaaa-0000-4000-8000-000000000007', (select id from invited where who = 'nobody'), 'req-13'), 'revoked',
  'an inviter revokes a pending invitation');
select tests.authenticate_as('c0000000-0000-4000-8000-000000000004');
select is(app.respond_to_invitation((select id from invited where who = 'eve'), false, 'req-14'), 'declined',
  'the invitee declines');
select tests.clear_authentication();
select results_eq(
  $$select event_type, actor_id from public.outbox_events e join public.audit_log a on a.request_id = e.correlation_id
    where e.correlation_id = 'req-14'$$,
  $$values ('team.invitation_declined', 'c0000000-0000-4000-8000-000000000004'::uuid)$$,
  'declining writes its event and audit entry although the invitee is in no team');
select is((select count(*)::int from public.team_members where user_id = 'c0000000-0000-4000-8000-000000000004'), 0,
  'and a declined invitation adds nobody');

-- ---------------------------------------------------------------------------------------------------------
-- Leaving
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('c0000000-0000-4000-8000-000000000001');
select is(app.leave_team('aaaaaaaa-0000-4000-8000-000000000007', 'req-15'), 'last_owner', 'the last owner cannot leave');
select throws_ok(
  $$delete from public.team_members where team_id = 'aaaaaaaa-0000-4000-8000-000000000007' and user_id = (select auth.uid())$$,
  '23514', null, 'not even by deleting their membership directly');
select tests.authenticate_as('c0000000-0000-4000-8000-000000000002');
select is(app.leave_team('aaaaaaaa-0000-4000-8000-000000000007', 'req-16'), 'left', 'a member leaves');
select tests.clear_authentication();
select results_eq(
  $$select event_type, payload ->> 'user_id' from public.outbox_events where correlation_id = 'req-16'$$,
  $$values ('team.member_left', 'c0000000-0000-4000-8000-000000000002')$$,
  'leaving writes team.member_left');

select * from finish();
rollback;
