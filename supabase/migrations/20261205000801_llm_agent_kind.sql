-- The `llm` agent kind (workers/agents/kinds/llm-agent.ts): agents may be of kind llm, and their runs log each
-- model call (`llm_call`, with its token usage) and each tool the model calls (`tool_call`) as steps.
set local lock_timeout = '5s';
set local statement_timeout = '60s';
-- The new checks only widen the old ones, so every existing row passes them: NOT VALID skips a scan that could
-- only succeed (and would hold its lock while it read the tables).

/** Which worker code runs an agent: the built-in summarizer, or a chat-completions model with tools. */
alter table public.agents drop constraint if exists agents_kind_check;
alter table public.agents add constraint agents_kind_check check (kind in ('summarizer', 'llm')) not valid;

/** What a run did, step by step: the summarizer's steps, plus the LLM agent's model calls and tool calls. */
alter table public.agent_run_steps drop constraint if exists agent_run_steps_kind_check;
alter table public.agent_run_steps add constraint agent_run_steps_kind_check
  check (kind in ('read_messages', 'summarize', 'post_reply', 'approval', 'note', 'llm_call', 'tool_call')) not valid;
