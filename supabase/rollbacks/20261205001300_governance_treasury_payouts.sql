-- Rolls back supabase/migrations/20261205001300_governance_treasury_payouts.sql: the scheduler's step queues a
-- succeeded treasury proposal again; the link proposal → payout is dropped (its payouts stay, as ordinary ones).
create or replace function app.governance_tick(batch integer default 100, tick_at timestamptz default now())
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

drop function if exists app.execute_treasury_proposal(public.proposals);
drop function if exists app.team_treasury(uuid);
drop trigger if exists payouts_guard_proposal_link on public.payouts;
drop function if exists app.guard_payout_proposal_link();
drop index if exists public.payouts_one_per_proposal;
alter table public.payouts drop column if exists proposal_id;
