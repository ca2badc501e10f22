-- Rolls back supabase/migrations/20261205001310_governance_stake_weighted_votes.sql: one member, one vote again
-- (every ballot's weight back to 1), the tally and the functions as 20261205000410 made them.
drop view if exists public.proposal_tallies;
alter table public.votes drop constraint if exists votes_weight_check;
update public.votes set weight = 1 where weight <> 1;
alter table public.votes alter column weight type integer;
alter table public.votes add constraint votes_weight_check check (weight = 1);
create view public.proposal_tallies with (security_invoker = true) as
select
  p.id as proposal_id,
  p.team_id,
  coalesce(sum(v.weight) filter (where v.choice = 'for'), 0)::integer as for_votes,
  coalesce(sum(v.weight) filter (where v.choice = 'against'), 0)::integer as against_votes,
  coalesce(sum(v.weight) filter (where v.choice = 'abstain'), 0)::integer as abstain_votes,
  p.eligible_voters,
  coalesce(sum(v.weight), 0) * 100 >= p.quorum_percent * p.eligible_voters as quorum_reached,
  coalesce(sum(v.weight) filter (where v.choice = 'for'), 0) * 100
    > p.pass_threshold_percent * coalesce(sum(v.weight) filter (where v.choice in ('for', 'against')), 0)
    as threshold_reached
from public.proposals p
left join public.votes v on v.proposal_id = p.id
group by p.id;

revoke all on public.proposal_tallies from anon, authenticated;
grant select on public.proposal_tallies to authenticated;
grant select on public.proposal_tallies to service_role;

create or replace function app.guard_vote() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  proposal public.proposals;
begin
  select * into proposal from public.proposals where id = new.proposal_id for share;
  if proposal.state <> 'active' or now() < proposal.voting_starts_at or now() >= proposal.voting_ends_at then
    raise exception 'voting on this proposal is not open (it is %)', proposal.state using errcode = '55000';
  end if;
  if tg_op = 'UPDATE' then
    if (new.proposal_id, new.team_id, new.voter_id) is distinct from (old.proposal_id, old.team_id, old.voter_id) then
      raise exception 'a vote changes only its choice' using errcode = '55000';
    end if;
    new.updated_at := now();
    new.cast_at := old.cast_at;
  end if;
  return new;
end
$$;

create or replace function app.execute_proposal_action(proposal public.proposals) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  setting text := proposal.action ->> 'setting';
  value numeric := (proposal.action ->> 'value')::numeric;
begin
  if proposal.kind = 'signal' then
    return jsonb_build_object('done', 'recorded');
  end if;
  -- parameter_change (the only other kind executed here)
  update public.governance_settings set
    quorum_percent = case when setting = 'quorum_percent' then value else quorum_percent end,
    pass_threshold_percent = case when setting = 'pass_threshold_percent' then value else pass_threshold_percent end,
    voting_period = case when setting = 'voting_period_seconds' then make_interval(secs => value) else voting_period end,
    voting_delay = case when setting = 'voting_delay_seconds' then make_interval(secs => value) else voting_delay end,
    updated_at = now()
  where team_id = proposal.team_id;
  return jsonb_build_object('done', 'setting_changed', 'setting', setting, 'value', value);
end
$$;

create or replace function app.guard_proposal_transition() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if (new.team_id, new.kind, new.title, new.body, new.action, new.created_by, new.created_at, new.voting_starts_at,
      new.voting_ends_at, new.eligible_voters, new.quorum_percent, new.pass_threshold_percent, new.execute_before)
     is distinct from (old.team_id, old.kind, old.title, old.body, old.action, old.created_by, old.created_at,
      old.voting_starts_at, old.voting_ends_at, old.eligible_voters, old.quorum_percent, old.pass_threshold_percent,
      old.execute_before) then
    raise exception 'a proposal cannot be changed once made; cancel it and make another' using errcode = '55000';
  end if;
  if new.state = old.state then
    return new;
  end if;
  if (old.state, new.state) not in (
      ('pending'::public.proposal_state, 'active'::public.proposal_state), ('pending', 'canceled'),
      ('active', 'canceled'), ('active', 'defeated'), ('active', 'succeeded'),
      ('succeeded', 'queued'), ('succeeded', 'executed'), ('succeeded', 'expired'),
      ('queued', 'executed'), ('queued', 'expired')) then
    raise exception 'a proposal cannot go from % to %', old.state, new.state using errcode = '55000';
  end if;
  if app.caller_is_api_client() and new.state <> 'canceled' then
    raise exception 'only the governance scheduler closes and executes proposals' using errcode = '42501';
  end if;
  if new.state = 'canceled' then
    new.canceled_by := (select auth.uid());
  end if;
  return new;
end
$$;

create or replace function app.prepare_proposal() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  settings public.governance_settings;
begin
  select * into settings from public.governance_settings where team_id = new.team_id;
  if not found then
    raise exception 'the team has no governance settings' using errcode = '55000';
  end if;
  if new.kind = 'signal' and new.action <> '{}'::jsonb then
    raise exception 'a signal proposal has no action' using errcode = '22023';
  elsif new.kind = 'parameter_change' and not app.governance_parameter_valid(new.action) then
    raise exception 'a parameter change names a setting (quorum_percent, pass_threshold_percent, voting_period_seconds, voting_delay_seconds) and a value within its bounds'
      using errcode = '22023';
  elsif new.kind = 'treasury_payout' and not (new.action ->> 'recipient' ~ '^0x[0-9a-fA-F]{40}$'
        and new.action ->> 'amount' ~ '^[1-9][0-9]{0,77}$' and new.action ->> 'asset' = 'RINGK') then
    raise exception 'a treasury payout names a recipient (0x address), an amount in base units and the asset RINGK'
      using errcode = '22023';
  end if;
  new.created_at := now();
  new.voting_starts_at := now() + settings.voting_delay;
  new.voting_ends_at := new.voting_starts_at + settings.voting_period;
  new.execute_before := new.voting_ends_at + settings.execution_window;
  new.quorum_percent := settings.quorum_percent;
  new.pass_threshold_percent := settings.pass_threshold_percent;
  new.eligible_voters := (select count(*) from public.team_members where team_id = new.team_id);
  new.state := case when settings.voting_delay = '0 seconds' then 'active' else 'pending' end;
  new.closed_at := null;
  new.executed_at := null;
  new.canceled_by := null;
  new.outcome := null;
  return new;
end
$$;

create or replace function app.governance_parameter_valid(action jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(action -> 'value') = 'number' and case action ->> 'setting'
    when 'quorum_percent' then (action ->> 'value')::numeric between 0 and 100
    when 'pass_threshold_percent' then (action ->> 'value')::numeric between 0 and 99.99
    when 'voting_period_seconds' then (action ->> 'value')::numeric between 1 and 2592000
    when 'voting_delay_seconds' then (action ->> 'value')::numeric between 0 and 604800
    else false end
$$;

drop function if exists app.team_stake_at(uuid, timestamptz);
drop function if exists app.member_stake_at(uuid, uuid, timestamptz);
alter table public.proposals drop column if exists vote_weight;
alter table public.governance_settings drop column if exists vote_weight;
