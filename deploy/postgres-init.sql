-- Temporal's auto-setup creates its own databases; the case store gets `cases` from POSTGRES_DB.
SELECT 1;
