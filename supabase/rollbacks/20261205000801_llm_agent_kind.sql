-- Rolls back supabase/migrations/20261205000801_llm_agent_kind.sql: only summarizers may be registered again and
-- runs log only the summarizer's steps. Rows already written (llm agents, their steps) are kept, not validated.
set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.agents drop constraint if exists agents_kind_check;
alter table public.agents add constraint agents_kind_check check (kind in ('summarizer')) not valid;
alter table public.agent_run_steps drop constraint if exists agent_run_steps_kind_check;
alter table public.agent_run_steps add constraint agent_run_steps_kind_check
  check (kind in ('read_messages', 'summarize', 'post_reply', 'approval', 'note')) not valid;
