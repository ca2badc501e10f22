-- Rollback of 20261205000710_chain_tokens.sql: the token list goes; payouts keep their token addresses.
drop table if exists public.chain_tokens;
