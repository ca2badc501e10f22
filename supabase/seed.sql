-- Demo data for local use: one team, two users (Alice owns it, Bob is a member) and a #general channel with
-- a welcome message; and Ops, a platform admin for the admin console. Fixed ids make it idempotent: running
-- it again changes nothing.

insert into auth.users (id, email, raw_user_meta_data) values
  ('00000000-0000-4000-8000-00000000a11c', 'alice@demo.local', '{"display_name": "Alice"}'),
  ('00000000-0000-4000-8000-000000000b0b', 'bob@demo.local', '{"display_name": "Bob"}')
on conflict (id) do nothing;

-- Ops is a platform admin (app_metadata, which only the auth service sets) and signs in to the admin console.
insert into auth.users (id, email, raw_user_meta_data, raw_app_meta_data) values
  ('00000000-0000-4000-8000-0000000000a1', 'ops@demo.local', '{"display_name": "Ops"}', '{"platform_admin": true}')
on conflict (id) do nothing;

insert into public.teams (id, name, created_by) values
  ('00000000-0000-4000-8000-0000000d3a00', 'Demo Team', '00000000-0000-4000-8000-00000000a11c')
on conflict (id) do nothing;

insert into public.team_members (team_id, user_id, role) values
  ('00000000-0000-4000-8000-0000000d3a00', '00000000-0000-4000-8000-000000000b0b', 'member')
on conflict (team_id, user_id) do nothing;

insert into public.channels (id, team_id, name, topic, created_by) values
  ('00000000-0000-4000-8000-0000000c4a01', '00000000-0000-4000-8000-0000000d3a00', 'general',
   'Say hello to the city', '00000000-0000-4000-8000-00000000a11c')
on conflict (id) do nothing;

insert into public.messages (id, channel_id, team_id, author_id, body) values
  ('00000000-0000-4000-8000-00000000e550', '00000000-0000-4000-8000-0000000c4a01',
   '00000000-0000-4000-8000-0000000d3a00', '00000000-0000-4000-8000-00000000a11c',
   'Welcome to DAARION.city! This is the demo team''s #general channel.')
on conflict (id) do nothing;

-- The Demo Team's treasury on the local chain (anvil, id 31337): the well-known first dev account, which the
-- wallet worker signs with locally (workers/wallet/chain.ts), so a treasury proposal that passes is paid there.
insert into public.wallets (team_id, kind, chain_id, address) values
  ('00000000-0000-4000-8000-0000000d3a00', 'treasury', 31337, '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266')
on conflict do nothing;
