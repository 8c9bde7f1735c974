-- PostgreSQL turns its 0/1 flags into BOOLEAN here (see postgres/0010). SQLite has no boolean
-- type: a bound Rust bool is stored as 0 or 1, which the CHECK of 0001 keeps. This file keeps
-- the two migration histories in step.
SELECT 1;
