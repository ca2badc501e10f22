-- A submitted Safe payout whose SafeTx was executed by another transaction than the one the wallet worker recorded
-- (an owner's Safe app with the approvers' signatures, racing the worker: the worker's own transaction then
-- reverts) was paid by that transaction: the worker records it in the payout's place and confirms it, instead of
-- failing a paid payout. And when the recorded transaction reverted with the SafeTx unexecuted (still payable),
-- the worker signs a new one in its place. The state machine below is 20261205000700's with one rule relaxed: a
-- submitted Safe payout's recorded transaction may be replaced (the Safe's nonce, not the record, keeps it to one
-- execution).
--
-- Rolled back by supabase/rollbacks/20261205001610_safe_payout_paid_by_another_transaction.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

/** The state machine: only the listed transitions, and what identifies a payout never changes. */
create or replace function app.guard_payout_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.team_id, new.chain_id, new.token, new.recipient, new.amount, new.idempotency_key, new.request_hash)
     is distinct from (old.team_id, old.chain_id, old.token, old.recipient, old.amount, old.idempotency_key, old.request_hash) then
    raise exception 'a payout''s team, chain, token, recipient, amount and idempotency key never change' using errcode = '42501';
  end if;
  if old.status in ('confirmed', 'failed', 'cancelled') then
    raise exception 'payout % is % and final', old.id, old.status using errcode = '55000';
  end if;
  if new.status <> old.status and (old.status, new.status) not in (
    ('requested', 'approved'), ('requested', 'cancelled'),
    ('approved', 'submitted'), ('approved', 'cancelled'), ('approved', 'failed'),
    ('submitted', 'confirmed'), ('submitted', 'failed')
  ) then
    raise exception 'payout % cannot go from % to %', old.id, old.status, new.status using errcode = '55000';
  end if;
  -- once recorded, the transaction of a payout is the one it is paid with (re-sent, never replaced) — except a
  -- submitted Safe payout's: the Safe's nonce lets its SafeTx execute once, so when another transaction executed
  -- it (the recorded one then reverts), that transaction becomes the recorded one
  if old.signed_tx is not null and new.signed_tx is distinct from old.signed_tx
     and not (old.safe_address is not null and old.status = 'submitted' and new.status = 'submitted' and new.signed_tx is not null) then
    raise exception 'payout % already has a signed transaction; it is re-sent, never replaced', old.id using errcode = '55000';
  end if;
  new.updated_at := now();
  if new.status <> old.status then
    case new.status
      when 'approved' then new.approved_at := now();
      when 'submitted' then new.submitted_at := now();
      else new.finished_at := now();
    end case;
  end if;
  return new;
end
$$;
