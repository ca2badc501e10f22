-- Agents and their runs (issue 11): what the Agent Orchestrator (workers/agents) executes.
-- - `agents`: a team's agents, each with its own service principal (so its replies are authored by it), the key
--   bundle it acts with, a kind (which code runs it), a config, a handle (`@summarizer`), enabled or not.
-- - `agent_runs`: one execution. Its lifecycle follows the OpenAI Assistants/Runs one:
--     queued → in_progress → (requires_action ↔ in_progress) → completed | failed | cancelled | expired
--   and the database refuses any other transition (app.guard_agent_run_transition). Every transition, and the
--   insert, writes an outbox event `agent_run.<status>` in the same transaction.
-- - `agent_run_steps`: what a run did, step by step.
-- The worker never touches these tables directly: it calls the service-role functions below (claim with a
-- lease, renew, record a step, ask for approval, settle, mint the run's short-lived access key), and acts on the
-- platform only through the gateway with that key. A message that mentions `@handle` starts a run of the
-- team's enabled agent with that handle (app.start_agent_runs_for_mentions, on the message's outbox event, so
-- the run carries the message's correlation id).
--
-- Rolled back by supabase/rollbacks/20261205000100_agents_and_runs.sql.

-- =========================================================================================================
-- Capabilities and events
-- =========================================================================================================
set local lock_timeout = '5s';
set local statement_timeout = '60s';

insert into public.capabilities (name, scope, privileged, description) values
  ('agent.read', 'team', false, 'See the team''s agents, their runs and steps'),
  ('agent.manage', 'team', true, 'Register, reconfigure and disable the team''s agents');

insert into public.bundle_capabilities (bundle, capability) values
  ('member', 'agent.read'), ('admin', 'agent.read'), ('owner', 'agent.read'), ('agent', 'agent.read'),
  ('admin', 'agent.manage'), ('owner', 'agent.manage');

insert into app.event_types (event_type, aggregate_type) values
  ('agent.registered', 'agent'),
  ('agent.updated', 'agent'),
  ('agent_run.queued', 'agent_run'),
  ('agent_run.in_progress', 'agent_run'),
  ('agent_run.requires_action', 'agent_run'),
  ('agent_run.completed', 'agent_run'),
  ('agent_run.failed', 'agent_run'),
  ('agent_run.cancelled', 'agent_run'),
  ('agent_run.expired', 'agent_run')
on conflict do nothing;

-- =========================================================================================================
-- Tables
-- =========================================================================================================

/** A team's agent. `name` is its handle in messages (`@summarizer`); `kind` says which worker code runs it. */
create table public.agents (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  principal_id uuid not null,
  name text not null check (name ~ '^[a-z][a-z0-9_-]{1,39}$'),
  kind text not null check (kind in ('summarizer')),
  config jsonb not null default '{}'::jsonb check (jsonb_typeof(config) = 'object' and octet_length(config::text) <= 4096),
  bundle text not null default 'agent' references public.bundles (name),
  enabled boolean not null default true,
  run_timeout_seconds integer not null default 300 check (run_timeout_seconds between 5 and 3600),
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (team_id, name),
  unique (id, team_id),
  foreign key (principal_id, team_id) references public.service_principals (id, team_id) on delete cascade
);

create type public.agent_run_status as enum
  ('queued', 'in_progress', 'requires_action', 'completed', 'failed', 'cancelled', 'expired');

/** One run of an agent. `lease_owner`/`lease_expires_at` say which worker holds it: a claim succeeds only
    when no live lease exists, so a run never runs twice at once; a crashed worker's lease runs out and
    another worker takes the run over (attempts counts the claims). */
create table public.agent_runs (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null,
  agent_id uuid not null,
  channel_id uuid,
  trigger_message_id uuid,
  input jsonb not null default '{}'::jsonb check (jsonb_typeof(input) = 'object' and octet_length(input::text) <= 8192),
  status public.agent_run_status not null default 'queued',
  output jsonb check (octet_length(output::text) <= 65536),
  error jsonb check (error is null or (error ? 'code' and error ? 'message')),
  usage jsonb not null default '{}'::jsonb,
  pending_action jsonb,
  correlation_id text check (char_length(correlation_id) <= 128),
  started_by uuid not null references public.profiles (id),
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  expires_at timestamptz not null,
  attempts integer not null default 0,
  lease_owner text check (char_length(lease_owner) <= 200),
  lease_expires_at timestamptz,
  run_key_id uuid references public.access_keys (id) on delete set null,
  foreign key (agent_id, team_id) references public.agents (id, team_id) on delete cascade,
  foreign key (channel_id, team_id) references public.channels (id, team_id) on delete cascade,
  check ((status = 'requires_action') = (pending_action is not null)),
  check ((status in ('completed', 'failed', 'cancelled', 'expired')) = (finished_at is not null))
);
create index agent_runs_team_idx on public.agent_runs (team_id, created_at desc);
create index agent_runs_agent_idx on public.agent_runs (agent_id, created_at desc);
create index agent_runs_live_idx on public.agent_runs (expires_at) where status in ('queued', 'in_progress', 'requires_action');

/** What a run did, in order. */
create table public.agent_run_steps (
  id bigint generated always as identity primary key,
  run_id uuid not null references public.agent_runs (id) on delete cascade,
  team_id uuid not null,
  kind text not null check (kind in ('read_messages', 'summarize', 'post_reply', 'approval', 'note')),
  status text not null check (status in ('started', 'succeeded', 'failed')),
  detail jsonb not null default '{}'::jsonb check (octet_length(detail::text) <= 16384),
  attempt integer not null,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index agent_run_steps_run_idx on public.agent_run_steps (run_id, id);

/** Agents act with key bundles only. */
create trigger agents_bundle_guard before insert or update of bundle on public.agents
  for each row execute function app.guard_access_key();

-- =========================================================================================================
-- The lifecycle, enforced, and an outbox event per transition
-- =========================================================================================================

/** Whether a run may go from one status to another (the OpenAI Runs lifecycle). */
create function app.agent_run_transition_allowed(old_status public.agent_run_status, new_status public.agent_run_status)
returns boolean
language sql immutable
set search_path = ''
as $$
  select (old_status, new_status) in (
    ('queued', 'in_progress'), ('queued', 'cancelled'), ('queued', 'expired'), ('queued', 'failed'),
    ('in_progress', 'requires_action'), ('in_progress', 'completed'), ('in_progress', 'failed'),
    ('in_progress', 'cancelled'), ('in_progress', 'expired'),
    ('requires_action', 'in_progress'), ('requires_action', 'cancelled'), ('requires_action', 'expired'),
    ('requires_action', 'failed'))
$$;

/** Refuses illegal transitions, stamps the timestamps, and writes the transition's outbox event. */
create function app.guard_agent_run_transition() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    if new.status = old.status then
      return new;
    end if;
    if not app.agent_run_transition_allowed(old.status, new.status) then
      raise exception 'an agent run cannot go from % to %', old.status, new.status using errcode = '23514',
        hint = 'runs go queued → in_progress → (requires_action ↔ in_progress) → completed | failed | cancelled | expired';
    end if;
  elsif new.status <> 'queued' then
    raise exception 'an agent run starts queued, not %', new.status using errcode = '23514';
  end if;
  if new.status = 'in_progress' and new.started_at is null then
    new.started_at := now();
  end if;
  if new.status in ('completed', 'failed', 'cancelled', 'expired') then
    new.finished_at := now();
    new.lease_owner := null;
    new.lease_expires_at := null;
  end if;
  if new.status <> 'requires_action' then
    new.pending_action := null;
  end if;
  return new;
end
$$;
create trigger agent_runs_a_transition before insert or update of status on public.agent_runs
  for each row execute function app.guard_agent_run_transition();

/** The outbox event of a run's new status (after the row is written, so the event never outlives a refusal). */
create function app.enqueue_agent_run_event() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.status = old.status then
    return null;
  end if;
  perform app.enqueue_event('agent_run.' || new.status::text, 'agent_run', new.id::text,
    jsonb_build_object('run_id', new.id, 'team_id', new.team_id, 'agent_id', new.agent_id, 'channel_id', new.channel_id,
      'status', new.status, 'attempts', new.attempts, 'error_code', new.error ->> 'code'),
    new.correlation_id, 1);
  return null;
end
$$;
create trigger agent_runs_b_event after insert or update of status on public.agent_runs
  for each row execute function app.enqueue_agent_run_event();

-- =========================================================================================================
-- Row-level security: reads by agent.read; every write through the functions below
-- =========================================================================================================
alter table public.agents enable row level security;
alter table public.agent_runs enable row level security;
alter table public.agent_run_steps enable row level security;

create policy "Holders of agent.read see their team's agents" on public.agents
  for select to authenticated using (team_id in (select app.teams_with_capability('agent.read')));
create policy "Holders of agent.manage reconfigure their team's agents" on public.agents
  for update to authenticated
  using (team_id in (select app.teams_with_capability('agent.manage')))
  with check (team_id in (select app.teams_with_capability('agent.manage')));
create policy "Holders of agent.read see their team's runs" on public.agent_runs
  for select to authenticated using (team_id in (select app.teams_with_capability('agent.read')));
create policy "Holders of agent.read see their team's run steps" on public.agent_run_steps
  for select to authenticated using (team_id in (select app.teams_with_capability('agent.read')));

-- =========================================================================================================
-- What API callers do (security definer, each checking the capability itself)
-- =========================================================================================================

/** Registers an agent: its service principal (an account without password or email) and the agent row. */
create function app.register_agent(
  target_team uuid, agent_name text, agent_kind text, agent_config jsonb, agent_bundle text, timeout_seconds integer,
  correlation text
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  principal uuid := gen_random_uuid();
  agent uuid;
begin
  if app.acting_as_key() or not app.has_capability(target_team, 'agent.manage') then
    raise exception 'capability agent.manage is missing in team %', target_team using errcode = '42501';
  end if;
  if exists (select 1 from public.agents a where a.team_id = target_team and a.name = agent_name) then
    raise exception 'the team already has an agent named %', agent_name using errcode = '23505';
  end if;
  insert into auth.users (id, raw_user_meta_data, raw_app_meta_data)
  values (principal, jsonb_build_object('display_name', agent_name),
          jsonb_build_object('principal_kind', 'agent', 'team_id', target_team));
  insert into public.service_principals (id, team_id, kind, name, created_by)
  values (principal, target_team, 'agent', agent_name, (select auth.uid()));
  insert into public.agents (team_id, principal_id, name, kind, config, bundle, run_timeout_seconds, created_by)
  values (target_team, principal, agent_name, agent_kind, agent_config, agent_bundle, timeout_seconds, (select auth.uid()))
  returning id into agent;
  perform app.enqueue_event('agent.registered', 'agent', agent::text,
    jsonb_build_object('agent_id', agent, 'team_id', target_team, 'name', agent_name, 'kind', agent_kind), correlation, 1);
  return agent;
end
$$;

/** Starts a run of an enabled agent of the caller's team; the reply (if any) goes to `target_channel`, which
    must be an open channel of the same team the caller can read. */
create function app.start_agent_run(target_agent uuid, target_channel uuid, run_input jsonb, correlation text,
  trigger_message uuid default null)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  agent public.agents;
  run uuid;
begin
  select * into agent from public.agents where id = target_agent;
  if agent.id is null or not app.has_capability(agent.team_id, 'agent.read') then
    raise exception 'no agent % is visible to the caller', target_agent using errcode = 'P0002';
  end if;
  if not app.has_capability(agent.team_id, 'agent.run') then
    raise exception 'capability agent.run is missing in team %', agent.team_id using errcode = '42501';
  end if;
  if not agent.enabled then
    raise exception 'agent % is disabled', agent.name using errcode = '55000';
  end if;
  if target_channel is not null and not exists (
    select 1 from public.channels c where c.id = target_channel and c.team_id = agent.team_id and c.archived_at is null
      and app.has_capability(agent.team_id, 'channel.read')) then
    raise exception 'no open channel % in the agent''s team', target_channel using errcode = 'P0002';
  end if;
  insert into public.agent_runs (team_id, agent_id, channel_id, trigger_message_id, input, correlation_id, started_by, expires_at)
  values (agent.team_id, agent.id, target_channel, trigger_message, coalesce(run_input, '{}'::jsonb), correlation,
          (select auth.uid()), now() + make_interval(secs => agent.run_timeout_seconds))
  returning id into run;
  return run;
end
$$;

/** Cancels a run that has not finished: its starter, or a holder of agent.manage. False when it already finished. */
create function app.cancel_agent_run(target_run uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  run public.agent_runs;
begin
  select * into run from public.agent_runs where id = target_run for update;
  if run.id is null or not app.has_capability(run.team_id, 'agent.read') then
    raise exception 'no agent run % is visible to the caller', target_run using errcode = 'P0002';
  end if;
  if run.started_by is distinct from (select auth.uid()) and not app.has_capability(run.team_id, 'agent.manage') then
    raise exception 'only the run''s starter or a holder of agent.manage cancels it' using errcode = '42501';
  end if;
  if run.status in ('completed', 'failed', 'cancelled', 'expired') then
    return false;
  end if;
  update public.agent_runs set status = 'cancelled',
    error = jsonb_build_object('code', 'cancelled', 'message', 'cancelled by ' || coalesce((select auth.uid())::text, 'a worker'))
  where id = target_run;
  return true;
end
$$;

/** Approves or rejects the pending action of a run in requires_action (its starter, or a holder of
    agent.manage): the run goes back to in_progress with the decision in its input, for a worker to resume. */
create function app.resolve_agent_run_action(target_run uuid, approve boolean, note text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  run public.agent_runs;
begin
  select * into run from public.agent_runs where id = target_run for update;
  if run.id is null or not app.has_capability(run.team_id, 'agent.read') then
    raise exception 'no agent run % is visible to the caller', target_run using errcode = 'P0002';
  end if;
  if run.started_by is distinct from (select auth.uid()) and not app.has_capability(run.team_id, 'agent.manage') then
    raise exception 'only the run''s starter or a holder of agent.manage decides its pending action' using errcode = '42501';
  end if;
  if run.status <> 'requires_action' then
    return false;
  end if;
  insert into public.agent_run_steps (run_id, team_id, kind, status, detail, attempt, finished_at)
  values (run.id, run.team_id, 'approval', case when approve then 'succeeded' else 'failed' end,
    jsonb_build_object('action', run.pending_action, 'approved', approve, 'by', (select auth.uid()), 'note', note),
    run.attempts, now());
  update public.agent_runs set status = 'in_progress',
    input = input || jsonb_build_object('decision', jsonb_build_object('approved', approve, 'action', run.pending_action)),
    lease_owner = null, lease_expires_at = null
  where id = target_run;
  return true;
end
$$;

/** Starts a run for each enabled agent a new message mentions (`@handle`, at most three per message), when its
    author is a person holding agent.run; fired by the message's outbox event, in the posting transaction. */
create function app.start_agent_runs_for_mentions() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages;
  agent record;
begin
  -- an event the relay will dead-letter (no or a malformed message_id) starts nothing and must not fail its insert
  if coalesce(new.payload ->> 'message_id', '') !~ '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$' then
    return null;
  end if;
  select * into message from public.messages where id = (new.payload ->> 'message_id')::uuid;
  if message.id is null or position('@' in message.body) = 0
     or exists (select 1 from public.service_principals p where p.id = message.author_id)
     or not app.has_capability(message.team_id, 'agent.run') then
    return null;
  end if;
  for agent in
    select a.id from public.agents a
    where a.team_id = message.team_id and a.enabled
      and a.name in (select lower(m[1]) from regexp_matches(message.body, '(?:^|[^\w@])@([a-zA-Z][a-zA-Z0-9_-]{1,39})', 'g') as m)
    order by a.name limit 3
  loop
    perform app.start_agent_run(agent.id, message.channel_id,
      jsonb_build_object('message_id', message.id, 'source', 'mention'), new.correlation_id, message.id);
  end loop;
  return null;
end
$$;
create trigger outbox_events_agent_mentions after insert on public.outbox_events
  for each row when (new.event_type = 'message.created') execute function app.start_agent_runs_for_mentions();

-- =========================================================================================================
-- What the orchestrator does (service role only)
-- =========================================================================================================

/** Claims a run for `worker` for `lease_seconds`: `claimed` (with the run in in_progress), `leased` (another
    worker holds a live lease), `busy` (the team already runs `team_limit` runs), `waiting` (requires_action),
    `expired` (its deadline passed; now marked so), `exhausted` (claimed max_attempts times; now failed) or
    `gone` (finished or unknown). Serialised per team, so the team limit holds under concurrent claims. */
create function app.claim_agent_run(target_run uuid, worker text, lease_seconds integer, team_limit integer,
  max_attempts integer)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  run public.agent_runs;
begin
  select * into run from public.agent_runs where id = target_run;
  if run.id is null then
    return 'gone';
  end if;
  perform pg_advisory_xact_lock(hashtextextended('agent_runs.team:' || run.team_id::text, 0));
  select * into run from public.agent_runs where id = target_run for update;
  if run.status in ('completed', 'failed', 'cancelled', 'expired') then
    return 'gone';
  end if;
  if run.status = 'requires_action' then
    return 'waiting';
  end if;
  if run.expires_at <= now() then
    update public.agent_runs set status = 'expired',
      error = jsonb_build_object('code', 'run_expired', 'message', 'the run did not finish before its deadline')
    where id = run.id;
    return 'expired';
  end if;
  -- a live lease, even this worker's own (its process is executing the run already): never twice at once
  if run.lease_owner is not null and run.lease_expires_at > now() then
    return 'leased';
  end if;
  if run.attempts >= max_attempts then
    update public.agent_runs set status = 'failed',
      error = jsonb_build_object('code', 'worker_lost', 'message',
        format('the run was taken over %s times without finishing (its workers stopped); not retried again', run.attempts))
    where id = run.id;
    return 'exhausted';
  end if;
  if (select count(*) from public.agent_runs r
      where r.team_id = run.team_id and r.id <> run.id and r.status = 'in_progress' and r.lease_expires_at > now()) >= team_limit then
    return 'busy';
  end if;
  update public.agent_runs set status = 'in_progress', attempts = attempts + 1, lease_owner = worker,
    lease_expires_at = now() + make_interval(secs => lease_seconds)
  where id = run.id;
  return 'claimed';
end
$$;

/** Extends the worker's lease; returns the run's status, or null when the worker no longer holds it (it was
    cancelled, expired or taken over): the worker then stops. */
create function app.renew_agent_run_lease(target_run uuid, worker text, lease_seconds integer)
returns public.agent_run_status
language sql
security definer
set search_path = ''
as $$
  update public.agent_runs set lease_expires_at = now() + make_interval(secs => lease_seconds)
  where id = target_run and lease_owner = worker and status = 'in_progress' and expires_at > now()
  returning status
$$;

/** Records a step of a run the worker holds; null when it does not hold it any more. */
create function app.record_agent_run_step(target_run uuid, worker text, step_kind text, step_status text, step_detail jsonb)
returns bigint
language sql
security definer
set search_path = ''
as $$
  insert into public.agent_run_steps (run_id, team_id, kind, status, detail, attempt, finished_at)
  select r.id, r.team_id, step_kind, step_status, coalesce(step_detail, '{}'::jsonb), r.attempts,
    case when step_status = 'started' then null else now() end
  from public.agent_runs r
  where r.id = target_run and r.lease_owner = worker and r.status = 'in_progress'
  returning id
$$;

/** Finishes a started step. */
create function app.finish_agent_run_step(step bigint, step_status text, step_detail jsonb) returns void
language sql
security definer
set search_path = ''
as $$
  update public.agent_run_steps set status = step_status, detail = detail || coalesce(step_detail, '{}'::jsonb), finished_at = now()
  where id = step and status = 'started'
$$;

/** Ends the worker's hold on a run with `final_status` (completed or failed) or puts it in requires_action
    with `action`; revokes the run's key when the run finished. False when the worker no longer holds the run. */
create function app.settle_agent_run(target_run uuid, worker text, final_status public.agent_run_status,
  run_output jsonb, run_error jsonb, run_usage jsonb, action jsonb default null)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  key uuid;
begin
  if final_status not in ('completed', 'failed', 'requires_action') then
    raise exception 'a worker settles a run as completed, failed or requires_action, not %', final_status using errcode = '22023';
  end if;
  update public.agent_runs set status = final_status, output = coalesce(run_output, output), error = run_error,
    usage = coalesce(run_usage, usage), pending_action = action, lease_owner = null, lease_expires_at = null
  where id = target_run and lease_owner = worker and status = 'in_progress'
  returning run_key_id into key;
  if not found then
    return false;
  end if;
  if final_status <> 'requires_action' and key is not null then
    update public.access_keys set revoked_at = now() where id = key and revoked_at is null;
  end if;
  return true;
end
$$;

/** Records the short-lived access key the orchestrator made for a run it holds (the key itself stays in the
    worker's memory; only its hash is stored): the agent's principal, team and bundle, expiring with the run. */
create function app.mint_agent_run_key(target_run uuid, worker text, hash bytea, prefix text, key_environment text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  run public.agent_runs;
  agent public.agents;
  key uuid;
begin
  select * into run from public.agent_runs where id = target_run and lease_owner = worker and status = 'in_progress';
  if run.id is null then
    return null;
  end if;
  select * into agent from public.agents where id = run.agent_id;
  if run.run_key_id is not null then
    update public.access_keys set revoked_at = now() where id = run.run_key_id and revoked_at is null;
  end if;
  insert into public.access_keys (principal_id, team_id, bundle, name, environment, key_hash, display_prefix, expires_at)
  values (agent.principal_id, agent.team_id, agent.bundle, left('run ' || run.id::text, 80), key_environment, hash, prefix,
          greatest(run.expires_at, now() + interval '1 minute'))
  returning id into key;
  update public.agent_runs set run_key_id = key where id = run.id;
  return key;
end
$$;

/** Marks runs past their deadline expired (and revokes their keys); returns how many. Safe to call from
    several workers at once (skip locked). */
create function app.expire_agent_runs(batch integer) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  expired integer;
begin
  with due as (
    select id from public.agent_runs
    where status in ('queued', 'in_progress', 'requires_action') and expires_at <= now()
    order by expires_at limit batch for update skip locked
  ), marked as (
    update public.agent_runs r set status = 'expired',
      error = jsonb_build_object('code', 'run_expired', 'message', 'the run did not finish before its deadline')
    from due where r.id = due.id
    returning r.run_key_id
  ), revoked as (
    update public.access_keys k set revoked_at = now() from marked where k.id = marked.run_key_id and k.revoked_at is null
  )
  select count(*) into expired from marked;
  return expired;
end
$$;

/** A run the worker is about to execute, with its agent (service role). */
create function app.agent_run_for_worker(target_run uuid)
returns table (run_id uuid, team_id uuid, agent_id uuid, agent_name text, agent_kind text, agent_config jsonb,
  principal_id uuid, channel_id uuid, input jsonb, status public.agent_run_status, attempts integer,
  correlation_id text, expires_at timestamptz)
language sql stable
security definer
set search_path = ''
as $$
  select r.id, r.team_id, a.id, a.name, a.kind, a.config, a.principal_id, r.channel_id, r.input, r.status, r.attempts,
    r.correlation_id, r.expires_at
  from public.agent_runs r join public.agents a on a.id = r.agent_id
  where r.id = target_run
$$;

-- =========================================================================================================
-- Privileges
-- =========================================================================================================
revoke all on public.agents, public.agent_runs, public.agent_run_steps from public, anon, authenticated;
revoke all on sequence public.agent_run_steps_id_seq from public, anon, authenticated;
grant select on public.agents, public.agent_runs, public.agent_run_steps to authenticated;
grant update (config, enabled, run_timeout_seconds, updated_at) on public.agents to authenticated;
grant all on public.agents, public.agent_runs, public.agent_run_steps to service_role;
grant usage on type public.agent_run_status to authenticated, service_role;

revoke all on function app.agent_run_transition_allowed(public.agent_run_status, public.agent_run_status),
  app.guard_agent_run_transition(), app.enqueue_agent_run_event(),
  app.register_agent(uuid, text, text, jsonb, text, integer, text), app.start_agent_run(uuid, uuid, jsonb, text, uuid),
  app.cancel_agent_run(uuid), app.resolve_agent_run_action(uuid, boolean, text), app.start_agent_runs_for_mentions(),
  app.claim_agent_run(uuid, text, integer, integer, integer), app.renew_agent_run_lease(uuid, text, integer),
  app.record_agent_run_step(uuid, text, text, text, jsonb), app.finish_agent_run_step(bigint, text, jsonb),
  app.settle_agent_run(uuid, text, public.agent_run_status, jsonb, jsonb, jsonb, jsonb),
  app.mint_agent_run_key(uuid, text, bytea, text, text), app.expire_agent_runs(integer), app.agent_run_for_worker(uuid)
  from public, anon, authenticated;

grant execute on function app.register_agent(uuid, text, text, jsonb, text, integer, text),
  app.start_agent_run(uuid, uuid, jsonb, text, uuid), app.cancel_agent_run(uuid),
  app.resolve_agent_run_action(uuid, boolean, text)
  to authenticated, service_role;
grant execute on function app.claim_agent_run(uuid, text, integer, integer, integer), app.renew_agent_run_lease(uuid, text, integer),
  app.record_agent_run_step(uuid, text, text, text, jsonb), app.finish_agent_run_step(bigint, text, jsonb),
  app.settle_agent_run(uuid, text, public.agent_run_status, jsonb, jsonb, jsonb, jsonb),
  app.mint_agent_run_key(uuid, text, bytea, text, text), app.expire_agent_runs(integer), app.agent_run_for_worker(uuid)
  to service_role;
