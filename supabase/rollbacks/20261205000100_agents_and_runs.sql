-- Rollback of 20261205000100_agents_and_runs.sql: agents, their runs and steps, the orchestrator's functions,
-- the mention trigger, the agent capabilities and event types. Runs, steps and agents are lost; the agents'
-- service principals and keys stay (they belong to the access-key tables).
drop trigger if exists outbox_events_agent_mentions on public.outbox_events;
drop function if exists app.start_agent_runs_for_mentions();
drop function if exists app.agent_run_for_worker(uuid);
drop function if exists app.expire_agent_runs(integer);
drop function if exists app.mint_agent_run_key(uuid, text, bytea, text, text);
drop function if exists app.settle_agent_run(uuid, text, public.agent_run_status, jsonb, jsonb, jsonb, jsonb);
drop function if exists app.finish_agent_run_step(bigint, text, jsonb);
drop function if exists app.record_agent_run_step(uuid, text, text, text, jsonb);
drop function if exists app.renew_agent_run_lease(uuid, text, integer);
drop function if exists app.claim_agent_run(uuid, text, integer, integer, integer);
drop function if exists app.resolve_agent_run_action(uuid, boolean, text);
drop function if exists app.cancel_agent_run(uuid);
drop function if exists app.start_agent_run(uuid, uuid, jsonb, text, uuid);
drop function if exists app.register_agent(uuid, text, text, jsonb, text, integer, text);
drop table if exists public.agent_run_steps;
drop table if exists public.agent_runs;
drop table if exists public.agents;
drop function if exists app.enqueue_agent_run_event();
drop function if exists app.guard_agent_run_transition();
drop function if exists app.agent_run_transition_allowed(public.agent_run_status, public.agent_run_status);
drop type if exists public.agent_run_status;
delete from app.event_types where event_type like 'agent\_run.%' or event_type in ('agent.registered', 'agent.updated');
delete from public.bundle_capabilities where capability in ('agent.read', 'agent.manage');
delete from public.capabilities where name in ('agent.read', 'agent.manage');
