//! Where SQLite and PostgreSQL differ in the SQL that feature code writes: placeholders, row
//! locks and the one-statement append to the live event log. Feature code asks `Backend` here
//! instead of branching on it (the change listener, `LISTEN`, is `Db`'s own).

use super::Backend;

impl Backend {
    /// The backend a connection (or a transaction, through `Deref`) talks to.
    pub fn of_connection(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name().eq_ignore_ascii_case("postgresql") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// Placeholders for `n` values bound in order: numbered from `start` on PostgreSQL
    /// (`$3, $4`), anonymous on SQLite (`?, ?`). SQLite finds a named `$N` by a linear search
    /// through the statement's names, when it prepares the statement and again for each bound
    /// value, which is quadratic in the thousand or so values of a publish batch's inserts.
    pub fn numbered(self, start: usize, n: usize) -> String {
        match self {
            Backend::Postgres => (start..start + n)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", "),
            Backend::Sqlite => vec!["?"; n].join(", "),
        }
    }

    /// `rows` groups of `width` placeholders, `($1, $2), ($3, $4)`, for a multi-row `VALUES`
    /// list.
    pub fn placeholders(self, rows: usize, width: usize) -> String {
        self.placeholders_from(1, rows, width)
    }

    /// `placeholders` numbered from `start`, for a list that follows other bound values.
    pub fn placeholders_from(self, start: usize, rows: usize, width: usize) -> String {
        (0..rows)
            .map(|r| format!("({})", self.numbered(start + r * width, width)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Appended to a `SELECT` in a write transaction: locks the rows it reads and skips rows
    /// another transaction holds (PostgreSQL). SQLite has one writer at a time and needs none.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }

    /// Appended to a `SELECT` in a write transaction: holds the rows it reads until commit
    /// (PostgreSQL). SQLite's write transactions (`BEGIN IMMEDIATE`) already exclude each other.
    pub fn for_update(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// The one statement that appends `events` rows of `(org_id, user_id, kind, payload, at)`
    /// to the live event log of `orgs` organisations. On PostgreSQL it first takes each
    /// organisation's log lock, in the order bound, and notifies every listening instance on
    /// commit (see `Db::relay_changes_from_other_instances`): bind the org ids first, then the
    /// rows. On SQLite, whose writer is alone, it is a plain insert of the rows.
    pub fn append_live_events(self, orgs: usize, events: usize) -> LiveAppend {
        let rows = self.placeholders_from(orgs + 1, events, 5);
        match self {
            Backend::Sqlite => LiveAppend {
                sql: format!("INSERT INTO live_events (org_id, user_id, kind, payload, at) VALUES {rows}"),
                binds_orgs_first: false,
            },
            // The rows are selected only once the count of locks is known, that is once every
            // lock is held, so their ids are drawn under the locks; a VALUES list is scanned,
            // and each lock taken, in the order written.
            Backend::Postgres => LiveAppend {
                sql: format!(
                    "WITH locked AS (\
                       SELECT count(pg_advisory_xact_lock(hashtext('live:' || o.org_id))::text) AS n \
                       FROM (VALUES {orgs}) AS o (org_id)), \
                     added AS (\
                       INSERT INTO live_events (org_id, user_id, kind, payload, at) \
                       SELECT e.org_id, e.user_id, e.kind, e.payload, e.at \
                       FROM (VALUES {rows}) AS e (org_id, user_id, kind, payload, at), locked \
                       WHERE locked.n > 0 RETURNING org_id) \
                     SELECT pg_notify('{channel}', org_id)::text FROM (SELECT DISTINCT org_id FROM added) AS d",
                    orgs = self.placeholders(orgs, 1),
                    channel = super::CHANGES_CHANNEL,
                ),
                binds_orgs_first: true,
            },
        }
    }

    /// The text under the key bound as `param` in a JSON object stored as text in `column`,
    /// or NULL when it has none. Bind the key through `json_key`.
    pub fn json_text(self, column: &str, param: &str) -> String {
        match self {
            Backend::Postgres => format!("(CAST({column} AS jsonb) ->> CAST({param} AS TEXT))"),
            Backend::Sqlite => format!("json_extract({column}, {param})"),
        }
    }

    /// A key of a JSON object as `json_text` takes it bound: the key itself on PostgreSQL, a
    /// JSON path on SQLite. The key must not hold a double quote.
    pub fn json_key(self, key: &str) -> String {
        match self {
            Backend::Postgres => key.to_string(),
            Backend::Sqlite => format!("$.\"{key}\""),
        }
    }
}

/// The statement of `Backend::append_live_events` and what to bind first.
pub struct LiveAppend {
    pub sql: String,
    /// Bind the distinct org ids, in order, before the rows.
    pub binds_orgs_first: bool,
}

/// A flag column of `row`: a BOOLEAN on PostgreSQL; on SQLite, which has no boolean type, the 0 or
/// 1 a bound bool was stored as (sqlx's `Any` driver hands it over as an integer).
pub fn flag(row: &sqlx::any::AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    row.try_get::<bool, _>(column)
        .or_else(|_| row.try_get::<i64, _>(column).map(|n| n != 0))
}
