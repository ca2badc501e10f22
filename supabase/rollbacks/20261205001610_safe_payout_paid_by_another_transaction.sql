-- Rollback of 20261205001610_safe_payout_paid_by_another_transaction.sql: the state machine as 20261205000700 made
-- it (a recorded transaction is never replaced).
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
  -- once recorded, the transaction of a payout is the one it is paid with (re-sent, never replaced)
  if old.signed_tx is not null and new.signed_tx is distinct from old.signed_tx then
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
