-- Row-level security is on for every table in the public schema, including tables added later: the list is
-- read from the catalog, so nobody has to remember to extend this test.
begin;
select plan(3);

select cmp_ok(
  (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'p')),
  '>=', 7,
  'the check sees the public schema''s tables'
);

select is(
  array(
    select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
    order by 1
  ),
  '{}'::text[],
  'every table in public has row-level security enabled (a table listed here has it off)'
);

select is(
  array(
    select distinct g.table_name::text from information_schema.role_table_grants g
    join information_schema.tables t using (table_schema, table_name)
    where g.table_schema = 'public' and t.table_type = 'BASE TABLE' and g.grantee in ('anon', 'PUBLIC')
    order by 1
  ),
  '{}'::text[],
  'no public table grants anything to anon or PUBLIC (a table listed here does)'
);

select * from finish();
rollback;
