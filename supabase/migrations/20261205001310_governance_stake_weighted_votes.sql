-- Votes weighted by staked RINGK, per team.
--
-- - `governance_settings.vote_weight`: `member` (one member, one vote; the default) or `staked_ringk` (a vote
--   weighs the voter's stake). Changed like the other settings, by an executed parameter-change proposal.
-- - `proposals.vote_weight`: fixed when the proposal is made, like its quorum and threshold.
-- - The snapshot is the proposal's `voting_starts_at`: a vote weighs the voter's stakes locked at that moment
--   (`staking_ringk`: created at or before it, not withdrawn by then), so stake moved after it changes
--   nothing; quorum is against the team's whole stake at that moment. Both are read from rows that never change
--   afterwards, so the tally gives the same answer whenever it is re-run.
-- - `votes.weight` becomes base units (numeric(78,0), ≥ 0; 1 for a member vote), set by the database when the
--   vote is cast; a changed vote keeps its weight.
-- - `proposal_tallies`: the voters per choice (`for_votes` …, as before) and their weights (`for_weight` …),
--   `eligible_weight` (members, or the stake at the snapshot), and quorum and threshold over the weights.
--
-- Rolled back by supabase/rollbacks/20261205001310_governance_stake_weighted_votes.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

-- =========================================================================================================
-- Settings and proposals
-- =========================================================================================================

alter table public.governance_settings add column vote_weight text not null default 'member'
  constraint governance_settings_vote_weight_check check (vote_weight in ('member', 'staked_ringk'));
alter table public.proposals add column vote_weight text not null default 'member'
  constraint proposals_vote_weight_check check (vote_weight in ('member', 'staked_ringk'));

/** A member's RINGK stake in a team at a moment: stakes locked at or before it and not withdrawn by then. */
create function app.member_stake_at(target_team uuid, member uuid, at timestamptz) returns numeric
language sql stable
security definer
set search_path = ''
as $$
  select coalesce(sum(amount), 0) from public.staking_ringk
  where team_id = target_team and user_id = member and created_at <= at and (withdrawn_at is null or withdrawn_at > at)
$$;

/** A team's whole RINGK stake at a moment (the electorate of a stake-weighted proposal). */
create function app.team_stake_at(target_team uuid, at timestamptz) returns numeric
language sql stable
security definer
set search_path = ''
as $$
  select coalesce(sum(amount), 0) from public.staking_ringk
  where team_id = target_team and created_at <= at and (withdrawn_at is null or withdrawn_at > at)
$$;

/** Settings a parameter-change proposal may change, with their bounds (same as the table's checks). */
create or replace function app.governance_parameter_valid(action jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select case when action ->> 'setting' = 'vote_weight' then
    jsonb_typeof(action -> 'value') = 'string' and action ->> 'value' in ('member', 'staked_ringk')
  else jsonb_typeof(action -> 'value') = 'number' and case action ->> 'setting'
    when 'quorum_percent' then (action ->> 'value')::numeric between 0 and 100
    when 'pass_threshold_percent' then (action ->> 'value')::numeric between 0 and 99.99
    when 'voting_period_seconds' then (action ->> 'value')::numeric between 1 and 2592000
    when 'voting_delay_seconds' then (action ->> 'value')::numeric between 0 and 604800
    else false end
  end
$$;

/** A new proposal takes its window, thresholds, electorate and vote weighting from the team's settings,
    whatever the caller sent; its action must fit its kind. */
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
    raise exception 'a parameter change names a setting (quorum_percent, pass_threshold_percent, voting_period_seconds, voting_delay_seconds) and a value within its bounds, or vote_weight and "member" or "staked_ringk"'
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
  new.vote_weight := settings.vote_weight;
  new.eligible_voters := (select count(*) from public.team_members where team_id = new.team_id);
  new.state := case when settings.voting_delay = '0 seconds' then 'active' else 'pending' end;
  new.closed_at := null;
  new.executed_at := null;
  new.canceled_by := null;
  new.outcome := null;
  return new;
end
$$;

/** The state machine: the allowed steps, who may take them (an API caller only cancels), and what stays fixed. */
create or replace function app.guard_proposal_transition() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if (new.team_id, new.kind, new.title, new.body, new.action, new.created_by, new.created_at, new.voting_starts_at,
      new.voting_ends_at, new.eligible_voters, new.quorum_percent, new.pass_threshold_percent, new.execute_before,
      new.vote_weight)
     is distinct from (old.team_id, old.kind, old.title, old.body, old.action, old.created_by, old.created_at,
      old.voting_starts_at, old.voting_ends_at, old.eligible_voters, old.quorum_percent, old.pass_threshold_percent,
      old.execute_before, old.vote_weight) then
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

/** Applies a succeeded proposal's action; returns what it did (kept in proposals.outcome). */
create or replace function app.execute_proposal_action(proposal public.proposals) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  setting text := proposal.action ->> 'setting';
begin
  if proposal.kind = 'signal' then
    return jsonb_build_object('done', 'recorded');
  end if;
  -- parameter_change (the only other kind executed here)
  if setting = 'vote_weight' then
    update public.governance_settings set vote_weight = proposal.action ->> 'value', updated_at = now()
    where team_id = proposal.team_id;
  else
    update public.governance_settings set
      quorum_percent = case when setting = 'quorum_percent' then (proposal.action ->> 'value')::numeric else quorum_percent end,
      pass_threshold_percent = case when setting = 'pass_threshold_percent' then (proposal.action ->> 'value')::numeric
        else pass_threshold_percent end,
      voting_period = case when setting = 'voting_period_seconds' then make_interval(secs => (proposal.action ->> 'value')::numeric)
        else voting_period end,
      voting_delay = case when setting = 'voting_delay_seconds' then make_interval(secs => (proposal.action ->> 'value')::numeric)
        else voting_delay end,
      updated_at = now()
    where team_id = proposal.team_id;
  end if;
  return jsonb_build_object('done', 'setting_changed', 'setting', setting, 'value', proposal.action -> 'value');
end
$$;

-- =========================================================================================================
-- Votes carry their weight
-- =========================================================================================================

drop view public.proposal_tallies;
alter table public.votes drop constraint votes_weight_check;
-- a rewrite of votes under its lock: a short one, the table holds one row per ballot
alter table public.votes alter column weight type numeric(78, 0);
alter table public.votes add constraint votes_weight_check check (weight >= 0);

/** A vote counts only while its proposal is active and inside its period; its weight is the database's (1, or
    the voter's stake at the snapshot), never the caller's. The share lock on the proposal serialises votes with
    the scheduler's close (which holds the row for update). */
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
    new.weight := old.weight;
  else
    new.weight := case when proposal.vote_weight = 'staked_ringk'
      then app.member_stake_at(proposal.team_id, new.voter_id, proposal.voting_starts_at) else 1 end;
  end if;
  return new;
end
$$;

-- =========================================================================================================
-- The tally
-- =========================================================================================================

/** The tally of every proposal the caller can see: voters and weight by choice, the electorate's weight
    (members, or the team's stake at the snapshot), whether quorum is reached (weight cast ≥ quorum_percent of
    the electorate's) and whether it passes (for > pass_threshold_percent of for + against, by weight; a tie at
    50 % does not pass). Re-runnable by anyone in the team; the scheduler closes with the same view. */
create view public.proposal_tallies with (security_invoker = true) as
select
  p.id as proposal_id,
  p.team_id,
  count(v.voter_id) filter (where v.choice = 'for')::integer as for_votes,
  count(v.voter_id) filter (where v.choice = 'against')::integer as against_votes,
  count(v.voter_id) filter (where v.choice = 'abstain')::integer as abstain_votes,
  p.eligible_voters,
  coalesce(sum(v.weight) filter (where v.choice = 'for'), 0) as for_weight,
  coalesce(sum(v.weight) filter (where v.choice = 'against'), 0) as against_weight,
  coalesce(sum(v.weight) filter (where v.choice = 'abstain'), 0) as abstain_weight,
  p.vote_weight,
  e.eligible_weight,
  coalesce(sum(v.weight), 0) * 100 >= p.quorum_percent * e.eligible_weight as quorum_reached,
  coalesce(sum(v.weight) filter (where v.choice = 'for'), 0) * 100
    > p.pass_threshold_percent * coalesce(sum(v.weight) filter (where v.choice in ('for', 'against')), 0)
    as threshold_reached
from public.proposals p
cross join lateral (
  select case when p.vote_weight = 'staked_ringk' then app.team_stake_at(p.team_id, p.voting_starts_at)
    else p.eligible_voters::numeric end as eligible_weight
) e
left join public.votes v on v.proposal_id = p.id
group by p.id, e.eligible_weight;

revoke all on public.proposal_tallies from anon, authenticated;
grant select on public.proposal_tallies to authenticated, service_role;

revoke all on function app.member_stake_at(uuid, uuid, timestamptz) from public, anon, authenticated;
revoke all on function app.team_stake_at(uuid, timestamptz) from public, anon;
-- the tally view (security invoker) calls it for every member; it returns one sum, never a member's stake
grant execute on function app.team_stake_at(uuid, timestamptz) to authenticated, service_role;
