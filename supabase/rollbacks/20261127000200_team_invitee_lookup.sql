-- Rollback of 20261127000200_team_invitee_lookup.sql.
-- scripts/migrate.sh down runs this and deletes the ledger row in the same transaction.

drop function if exists app.team_invitee_id(uuid, text);
