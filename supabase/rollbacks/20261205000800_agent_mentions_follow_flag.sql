-- Rolls back supabase/migrations/20261205000800_agent_mentions_follow_flag.sql: mentions start runs whatever
-- the `agents` flag says (the function as migration 20261205000100 made it).
set local lock_timeout = '5s';
set local statement_timeout = '60s';

create or replace function app.start_agent_runs_for_mentions() returns trigger
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
