-- Governance: proposals, votes, the tally, and the state machine that closes and executes them.
--
-- - `governance_settings`, one row per team (created with the team): voting delay and period, quorum (percent
--   of the members eligible when the proposal was made who cast any vote) and pass threshold (percent of
--   for among for + against, strictly above), and how long a succeeded proposal may wait to be executed.
-- - `proposals` snapshot the settings and the number of eligible voters when created (a later settings change
--   does not move an open vote). Kinds: `signal` (text only), `parameter_change` (changes one governance
--   setting of the team when executed), `treasury_payout` (waits in Queued until the wallet domain can
--   execute payouts; it expires if nobody does — the link to payouts is added when that domain lands).
-- - States follow OpenZeppelin Governor: pending → active → (defeated | succeeded); succeeded → queued |
--   executed | expired; queued → executed | expired; pending/active → canceled. A trigger refuses every other
--   step, and only the scheduler (a worker, not an API caller) closes and executes.
-- - `votes`: one row per (proposal, member) — the primary key makes a double vote impossible however many
--   requests race; changeable (update) until the vote closes. A trigger takes a share lock on the proposal
--   and refuses a vote unless it is active and inside its period, so a vote cannot slip past a close that
--   holds the row lock.
-- - `proposal_tallies`: the tally as one view (security invoker: RLS applies), anyone in the team can re-run it;
--   the scheduler decides with the same view.
-- - `app.governance_tick(batch)`: the scheduler's step, run by any number of instances at once: it claims due
--   proposals with `for update skip locked` and moves each one exactly one step, in one transaction with its
--   event (and, for a parameter change, the setting it changes).
--
-- Rolled back by supabase/rollbacks/20261205000410_governance.sql.

-- =========================================================================================================
-- Capabilities and events
-- =========================================================================================================

set local lock_timeout = '5s';
set local statement_timeout = '60s';

insert into public.capabilities (name, scope, privileged, description) values
  ('governance.propose', 'team', false, 'Make and cancel one''s own proposals'),
  ('governance.manage', 'team', true, 'Cancel any proposal and see governance settings in full');

insert into public.bundle_capabilities (bundle, capability) values
  ('member', 'governance.propose'),
  ('admin', 'governance.propose'), ('admin', 'governance.manage'),
  ('owner', 'governance.propose'), ('owner', 'governance.manage');

insert into app.event_types (event_type, aggregate_type) values
  ('proposal.created', 'proposal'),
  ('proposal.vote_cast', 'proposal'),
  ('proposal.state_changed', 'proposal')
on conflict do nothing;

-- =========================================================================================================
-- Settings
-- =========================================================================================================

/** How a team decides. Changed by executed parameter-change proposals (and by the database owner). */
create table public.governance_settings (
  team_id uuid primary key references public.teams (id) on delete cascade,
  voting_delay interval not null default '0 seconds' check (voting_delay between '0 seconds' and '7 days'),
  voting_period interval not null default '3 days' check (voting_period between '1 second' and '30 days'),
  quorum_percent numeric(5, 2) not null default 50 check (quorum_percent between 0 and 100),
  pass_threshold_percent numeric(5, 2) not null default 50 check (pass_threshold_percent between 0 and 99.99),
  execution_window interval not null default '7 days' check (execution_window between '1 minute' and '90 days'),
  updated_at timestamptz not null default now()
);

create function app.create_governance_settings() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.governance_settings (team_id) values (new.id) on conflict do nothing;
  return null;
end
$$;
create trigger teams_governance_settings after insert on public.teams
  for each row execute function app.create_governance_settings();
insert into public.governance_settings (team_id) select id from public.teams on conflict do nothing;

-- =========================================================================================================
-- Proposals
-- =========================================================================================================

create type public.proposal_kind as enum ('signal', 'parameter_change', 'treasury_payout');
create type public.proposal_state as enum
  ('pending', 'active', 'canceled', 'defeated', 'succeeded', 'queued', 'executed', 'expired');
create type public.vote_choice as enum ('for', 'against', 'abstain');

/** A question put to the team. The voting window, quorum, threshold and electorate are fixed at creation. */
create table public.proposals (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  kind public.proposal_kind not null,
  title text not null check (char_length(title) between 1 and 200),
  body text not null default '' check (char_length(body) <= 8000),
  -- parameter_change: {"setting": "<column of governance_settings>", "value": <number>};
  -- treasury_payout: {"recipient": "0x…", "amount": "<base units>", "asset": "RINGK"}; signal: {}
  action jsonb not null default '{}'::jsonb check (jsonb_typeof(action) = 'object' and octet_length(action::text) <= 2000),
  state public.proposal_state not null,
  created_by uuid not null references public.profiles (id),
  created_at timestamptz not null default now(),
  voting_starts_at timestamptz not null,
  voting_ends_at timestamptz not null,
  eligible_voters integer not null check (eligible_voters >= 0),
  quorum_percent numeric(5, 2) not null,
  pass_threshold_percent numeric(5, 2) not null,
  execute_before timestamptz not null,
  closed_at timestamptz,
  executed_at timestamptz,
  canceled_by uuid references public.profiles (id) on delete set null,
  -- what execution did (the setting changed, or why it could not)
  outcome jsonb,
  unique (id, team_id),
  check (voting_ends_at > voting_starts_at and execute_before > voting_ends_at)
);
create index proposals_team_idx on public.proposals (team_id, created_at desc);
-- what the scheduler looks for: open proposals by the next time they are due
create index proposals_due_idx on public.proposals (voting_ends_at) where state in ('pending', 'active', 'succeeded', 'queued');

/** Settings a parameter-change proposal may change, with their bounds (same as the table's checks). */
create function app.governance_parameter_valid(action jsonb) returns boolean
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

/** A new proposal takes its window, thresholds and electorate from the team's settings, whatever the caller
    sent; its action must fit its kind. */
create function app.prepare_proposal() returns trigger
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
create trigger proposals_prepare before insert on public.proposals
  for each row execute function app.prepare_proposal();

/** The state machine: the allowed steps, who may take them (an API caller only cancels), and what stays fixed. */
create function app.guard_proposal_transition() returns trigger
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
create trigger proposals_guard_transition before update on public.proposals
  for each row execute function app.guard_proposal_transition();

-- =========================================================================================================
-- Votes
-- =========================================================================================================

/** One member's vote on a proposal: changeable (update) until the vote closes; never two per member. */
create table public.votes (
  proposal_id uuid not null,
  team_id uuid not null,
  voter_id uuid not null references public.profiles (id) on delete cascade,
  choice public.vote_choice not null,
  -- one member, one vote; weighting by staked RINGK comes with the wallet domain's staking_ringk
  weight integer not null default 1 check (weight = 1),
  cast_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (proposal_id, voter_id),
  foreign key (proposal_id, team_id) references public.proposals (id, team_id) on delete cascade
);

/** A vote counts only while its proposal is active and inside its period. The share lock on the proposal
    serialises votes with the scheduler's close (which holds the row for update). */
create function app.guard_vote() returns trigger
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
create trigger votes_guard before insert or update on public.votes
  for each row execute function app.guard_vote();

-- =========================================================================================================
-- The tally
-- =========================================================================================================

/** The tally of every proposal the caller can see: votes by choice, whether quorum is reached (votes cast ≥
    quorum_percent of the electorate) and whether it passes (for > pass_threshold_percent of for + against; a
    tie at 50 % does not pass). Re-runnable by anyone in the team; the scheduler closes with the same view. */
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

-- =========================================================================================================
-- Events
-- =========================================================================================================

create function app.proposal_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform app.enqueue_event('proposal.created', 'proposal', new.id::text,
      jsonb_build_object('proposal_id', new.id, 'team_id', new.team_id, 'kind', new.kind, 'state', new.state,
        'created_by', new.created_by, 'voting_ends_at', to_char(new.voting_ends_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
      app.claims_request_id());
  elsif new.state <> old.state then
    perform app.enqueue_event('proposal.state_changed', 'proposal', new.id::text,
      jsonb_build_object('proposal_id', new.id, 'team_id', new.team_id, 'kind', new.kind, 'from', old.state, 'to', new.state),
      app.claims_request_id());
  end if;
  return null;
end
$$;
create trigger proposals_events after insert or update on public.proposals
  for each row execute function app.proposal_events();

create function app.vote_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- the choice is not in the event: ballots stay in Postgres behind RLS, the event says the tally moved
  perform app.enqueue_event('proposal.vote_cast', 'proposal', new.proposal_id::text,
    jsonb_build_object('proposal_id', new.proposal_id, 'team_id', new.team_id, 'voter_id', new.voter_id,
      'changed', tg_op = 'UPDATE'), app.claims_request_id());
  return null;
end
$$;
create trigger votes_events after insert or update of choice on public.votes
  for each row execute function app.vote_events();

-- =========================================================================================================
-- The scheduler's step
-- =========================================================================================================

/** Applies a succeeded proposal's action; returns what it did (kept in proposals.outcome). */
create function app.execute_proposal_action(proposal public.proposals) returns jsonb
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

/** One scheduler step over at most `batch` due proposals: pending → active at the start of voting; active →
    succeeded|defeated at its end (by the tally); succeeded → executed (signal, parameter change) or queued
    (treasury payout: waits for the wallet domain); succeeded|queued → expired past execute_before. Rows
    another instance holds are skipped (for update skip locked), so concurrent instances never take the same
    proposal, and each step re-reads the state under the lock, so none is taken twice. Returns the steps.
    `tick_at` is the time the step is taken at (tests move it forward; the worker leaves it at now()). */
create function app.governance_tick(batch integer default 100, tick_at timestamptz default now())
returns table (proposal_id uuid, from_state public.proposal_state, to_state public.proposal_state)
language plpgsql
set search_path = ''
as $$
declare
  proposal public.proposals;
  tally public.proposal_tallies;
  next_state public.proposal_state;
begin
  if app.caller_is_api_client() then
    raise exception 'the governance scheduler runs as a worker, not for an API caller' using errcode = '42501';
  end if;
  for proposal in
    select p.* from public.proposals p
    where (p.state = 'pending' and p.voting_starts_at <= tick_at)
       or (p.state = 'active' and p.voting_ends_at <= tick_at)
       or p.state = 'succeeded'
       or (p.state = 'queued' and p.execute_before <= tick_at)
    order by p.voting_ends_at
    limit batch
    for update skip locked
  loop
    if proposal.state = 'pending' then
      next_state := 'active';
      update public.proposals set state = next_state where id = proposal.id;
    elsif proposal.state = 'active' then
      select * into tally from public.proposal_tallies t where t.proposal_id = proposal.id;
      next_state := case when tally.quorum_reached and tally.threshold_reached then 'succeeded' else 'defeated' end;
      update public.proposals set state = next_state, closed_at = tick_at,
        outcome = jsonb_build_object('for', tally.for_votes, 'against', tally.against_votes, 'abstain', tally.abstain_votes,
          'eligible', tally.eligible_voters, 'quorum_reached', tally.quorum_reached, 'threshold_reached', tally.threshold_reached)
      where id = proposal.id;
    elsif proposal.state = 'succeeded' and proposal.execute_before <= tick_at then
      next_state := 'expired';
      update public.proposals set state = next_state where id = proposal.id;
    elsif proposal.state = 'succeeded' and proposal.kind = 'treasury_payout' then
      next_state := 'queued';
      update public.proposals set state = next_state,
        outcome = coalesce(outcome, '{}'::jsonb) || '{"waiting_for": "wallet domain payouts"}'::jsonb
      where id = proposal.id;
    elsif proposal.state = 'succeeded' then
      next_state := 'executed';
      update public.proposals set state = next_state, executed_at = tick_at,
        outcome = coalesce(outcome, '{}'::jsonb) || app.execute_proposal_action(proposal)
      where id = proposal.id;
    else
      next_state := 'expired';
      update public.proposals set state = next_state where id = proposal.id;
    end if;
    proposal_id := proposal.id;
    from_state := proposal.state;
    to_state := next_state;
    return next;
  end loop;
end
$$;

-- =========================================================================================================
-- Row-level security
-- =========================================================================================================

alter table public.governance_settings enable row level security;
alter table public.proposals enable row level security;
alter table public.votes enable row level security;

create policy "Members see how their team decides" on public.governance_settings
  for select to authenticated
  using (team_id in (select app.teams_with_capability('team.read')));

create policy "Voters see their team's proposals" on public.proposals
  for select to authenticated
  using (team_id in (select app.teams_with_capability('governance.vote'))
      or team_id in (select app.teams_with_capability('governance.propose')));
create policy "Holders of governance.propose make proposals as themselves" on public.proposals
  for insert to authenticated
  with check (created_by = (select auth.uid()) and team_id in (select app.teams_with_capability('governance.propose')));
create policy "Proposers or governance.manage holders cancel proposals" on public.proposals
  for update to authenticated
  using ((created_by = (select auth.uid()) and team_id in (select app.teams_with_capability('governance.propose')))
      or team_id in (select app.teams_with_capability('governance.manage')))
  with check (state = 'canceled');

-- ballots are visible to the team: the tally is re-runnable by anyone in it
create policy "Voters see their team's votes" on public.votes
  for select to authenticated
  using (team_id in (select app.teams_with_capability('governance.vote')));
create policy "Holders of governance.vote vote as themselves" on public.votes
  for insert to authenticated
  with check (voter_id = (select auth.uid()) and team_id in (select app.teams_with_capability('governance.vote')));
create policy "Voters change their own vote" on public.votes
  for update to authenticated
  using (voter_id = (select auth.uid()) and team_id in (select app.teams_with_capability('governance.vote')))
  with check (voter_id = (select auth.uid()));

revoke all on public.governance_settings, public.proposals, public.votes, public.proposal_tallies from anon, authenticated;
grant select on public.governance_settings, public.proposals, public.votes, public.proposal_tallies to authenticated;
grant insert (team_id, kind, title, body, action, created_by) on public.proposals to authenticated;
grant update (state) on public.proposals to authenticated;
grant insert (proposal_id, team_id, voter_id, choice), update (choice) on public.votes to authenticated;
grant select, insert, update, delete on public.governance_settings, public.proposals, public.votes to service_role;
grant select on public.proposal_tallies to service_role;

revoke all on function app.create_governance_settings(), app.governance_parameter_valid(jsonb), app.prepare_proposal(),
  app.guard_proposal_transition(), app.guard_vote(), app.proposal_events(), app.vote_events(),
  app.execute_proposal_action(public.proposals), app.governance_tick(integer, timestamptz) from public, anon, authenticated;
grant execute on function app.governance_tick(integer, timestamptz) to service_role;
