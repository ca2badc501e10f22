-- The `agents` feature flag reaches mentions: a message that mentions an agent starts no run when the gateway,
-- having evaluated the flag for the message's team, set the transaction-local `app.agent_mentions` to 'off'.
-- Without the setting (the flag on, or a write that did not come through the gateway) nothing changes.
set local lock_timeout = '5s';
set local statement_timeout = '60s';

/** Starts a run for each enabled agent a new message mentions (`@handle`, at most three per message), when its
    author is a person holding agent.run and agents are not switched off for the transaction; fired by the
    message's outbox event, in the posting transaction. */
create or replace function app.start_agent_runs_for_mentions() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages;
  agent record;
begin
  -- the gateway sets this when the `agents` feature flag is off for the message's team (functions/api/agents/agents-flag.ts)
  if coalesce(current_setting('app.agent_mentions', true), '') = 'off' then
    return null;
  end if;
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
