-- Governance executes treasury proposals: a succeeded `treasury_payout` proposal becomes exactly one payout.
--
-- - `payouts.proposal_id`: the proposal whose vote approved the payout. Unique, so one proposal can never have
--   two payouts whatever the scheduler's locks do; fixed once set.
-- - `app.team_treasury(team)`: where a team's payouts in RINGK come from — the team's treasury wallet on a chain
--   whose RINGK token is listed in `chain_tokens` (the same chain id and token a `POST …/payouts` names).
-- - `app.execute_treasury_proposal(proposal)`: records the payout (requested → approved in one transaction, so
--   the wallet domain's state machine and its `payout.requested` / `payout.approved` events stay the only
--   path) with an audit entry saying the approval came from the proposal. Without a treasury (none, or one on
--   several chains) it records no payout and says why in the proposal's outcome.
-- - `app.governance_tick` replaced: succeeded treasury proposals execute (→ executed with `payout_id` in the
--   outcome); those without a treasury wait in queued with the reason, are retried every tick, and expire at
--   `execute_before` like any other.
--
-- Rolled back by supabase/rollbacks/20261205001300_governance_treasury_payouts.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

-- =========================================================================================================
-- The link proposal → payout
-- =========================================================================================================

-- nullable and without a default: no table rewrite; the unique index is built while payouts are few. No
-- delete action: a proposal goes only with its team, and the team's payouts go in the same statement.
alter table public.payouts add column proposal_id uuid references public.proposals (id);
create unique index payouts_one_per_proposal on public.payouts (proposal_id) where proposal_id is not null;

/** The proposal that approved a payout is part of what the payout is: it never changes once recorded. */
create function app.guard_payout_proposal_link() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.proposal_id is not null and new.proposal_id is distinct from old.proposal_id then
    raise exception 'payout % was approved by proposal %; that link never changes', old.id, old.proposal_id
      using errcode = '42501';
  end if;
  if old.proposal_id is null and new.proposal_id is not null then
    raise exception 'a payout is linked to its proposal when governance records it, not later' using errcode = '42501';
  end if;
  return new;
end
$$;
create trigger payouts_guard_proposal_link before update of proposal_id on public.payouts
  for each row execute function app.guard_payout_proposal_link();

grant select (proposal_id) on public.payouts to authenticated;

-- =========================================================================================================
-- The team's treasury
-- =========================================================================================================

/** The chains on which a team can pay RINGK: its treasury wallet there, and the RINGK token listed for it. */
create function app.team_treasury(target_team uuid)
returns table (chain_id bigint, token text, treasury_address text)
language sql stable
security definer
set search_path = ''
as $$
  select w.chain_id, t.address, w.address
  from public.wallets w
  join public.chain_tokens t on t.chain_id = w.chain_id and t.symbol = 'RINGK'
  where w.team_id = target_team and w.kind = 'treasury'
  order by w.chain_id
$$;

-- =========================================================================================================
-- Execution
-- =========================================================================================================

/** Records the one payout of a succeeded treasury proposal, approved by the vote. Returns the outcome to keep:
    {"done": "payout_approved", "payout_id", "chain_id", "token"} or, when it cannot, {"error": {code, message}}
    (and no payout). Called only by app.governance_tick, which holds the proposal's row lock. */
create function app.execute_treasury_proposal(proposal public.proposals) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  treasuries integer;
  treasury record;
  payout public.payouts;
  memo text := left('Proposal: ' || proposal.title, 280);
  made uuid;
begin
  -- a payout already recorded for this proposal (the unique index makes a second one impossible) is the answer
  select id into made from public.payouts where proposal_id = proposal.id;
  if made is null then
    select count(*) into treasuries from app.team_treasury(proposal.team_id);
    if treasuries = 0 then
      return jsonb_build_object('error', jsonb_build_object('code', 'no_treasury', 'message',
        'The team has no treasury wallet on a chain where RINGK is listed; register one and the next scheduler tick pays this proposal (until it expires).'));
    elsif treasuries > 1 then
      return jsonb_build_object('error', jsonb_build_object('code', 'treasury_ambiguous', 'message',
        'The team has treasury wallets on several chains with RINGK; keep one and the next scheduler tick pays this proposal (until it expires).'));
    end if;
    select * into treasury from app.team_treasury(proposal.team_id);
    insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, memo, idempotency_key,
                                request_hash, proposal_id)
    values (proposal.team_id, proposal.created_by, treasury.chain_id, treasury.token, lower(proposal.action ->> 'recipient'),
            (proposal.action ->> 'amount')::numeric, memo, 'proposal:' || proposal.id,
            encode(sha256(convert_to(jsonb_build_array(treasury.chain_id, treasury.token, lower(proposal.action ->> 'recipient'),
              proposal.action ->> 'amount', memo)::text, 'UTF8')), 'hex'),
            proposal.id)
    returning id into made;
    -- the vote is the team's approval: the state machine's requested → approved step, with its event
    update public.payouts set status = 'approved' where id = made;
    insert into public.audit_log (actor_id, team_id, action, target_type, target_id, details)
    values (null, proposal.team_id, 'payout.approved_by_proposal', 'payout', made::text,
            jsonb_build_object('proposal_id', proposal.id));
  end if;
  select * into payout from public.payouts where id = made;
  return jsonb_build_object('done', 'payout_approved', 'payout_id', payout.id, 'chain_id', payout.chain_id, 'token', payout.token);
end
$$;

/** One scheduler step over at most `batch` due proposals: pending → active at the start of voting; active →
    succeeded|defeated at its end (by the tally); succeeded → executed (signal, parameter change, and a treasury
    payout whose payout is recorded) or queued (a treasury payout the team cannot pay yet: the reason is in the
    outcome); queued → executed once it can, or expired past execute_before; succeeded → expired past it.
    Rows another instance holds are skipped (for update skip locked), so concurrent instances never take the
    same proposal, and each step re-reads the state under the lock, so none is taken twice. Queued proposals
    come last, so ones waiting for a treasury never crowd out the others. Returns the steps. `tick_at` is the
    time the step is taken at (tests move it forward; the worker leaves it at now()). */
create or replace function app.governance_tick(batch integer default 100, tick_at timestamptz default now())
returns table (proposal_id uuid, from_state public.proposal_state, to_state public.proposal_state)
language plpgsql
set search_path = ''
as $$
declare
  proposal public.proposals;
  tally public.proposal_tallies;
  next_state public.proposal_state;
  done jsonb;
begin
  if app.caller_is_api_client() then
    raise exception 'the governance scheduler runs as a worker, not for an API caller' using errcode = '42501';
  end if;
  for proposal in
    select p.* from public.proposals p
    where (p.state = 'pending' and p.voting_starts_at <= tick_at)
       or (p.state = 'active' and p.voting_ends_at <= tick_at)
       or p.state = 'succeeded'
       or (p.state = 'queued' and (p.execute_before <= tick_at or p.kind = 'treasury_payout'))
    order by p.state = 'queued', p.voting_ends_at
    limit batch
    for update skip locked
  loop
    next_state := null;
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
    elsif proposal.execute_before <= tick_at then
      next_state := 'expired';
      update public.proposals set state = next_state where id = proposal.id;
    elsif proposal.kind = 'treasury_payout' then
      done := app.execute_treasury_proposal(proposal);
      if done ? 'payout_id' then
        next_state := 'executed';
        update public.proposals set state = next_state, executed_at = tick_at,
          outcome = (coalesce(outcome, '{}'::jsonb) - 'error' - 'waiting_for') || done
        where id = proposal.id;
      elsif proposal.state = 'succeeded' then
        next_state := 'queued';
        update public.proposals set state = next_state, outcome = coalesce(outcome, '{}'::jsonb) || done
        where id = proposal.id;
      elsif proposal.outcome -> 'error' is distinct from done -> 'error' then
        -- still queued, for another reason than before: the outcome says the current one (no step taken)
        update public.proposals set outcome = coalesce(outcome, '{}'::jsonb) || done where id = proposal.id;
      end if;
    elsif proposal.state = 'succeeded' then
      next_state := 'executed';
      update public.proposals set state = next_state, executed_at = tick_at,
        outcome = coalesce(outcome, '{}'::jsonb) || app.execute_proposal_action(proposal)
      where id = proposal.id;
    end if;
    if next_state is not null then
      proposal_id := proposal.id;
      from_state := proposal.state;
      to_state := next_state;
      return next;
    end if;
  end loop;
end
$$;

revoke all on function app.guard_payout_proposal_link(), app.team_treasury(uuid),
  app.execute_treasury_proposal(public.proposals) from public, anon, authenticated;
grant execute on function app.team_treasury(uuid) to service_role;
