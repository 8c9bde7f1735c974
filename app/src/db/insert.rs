//! Multi-row inserts written once and run as few statements as the backend allows. A publish
//! writes five tables; on PostgreSQL each statement is a round trip to the server, so there the
//! inserts run as the parts of one statement (data-modifying `WITH` clauses), while SQLite,
//! which has no such clauses and no round trips, runs them one after the other. Either way a
//! statement stays under the engines' limits on bound values, so a batch of items that each
//! name a thousand users is split instead of refused.

use std::borrow::Cow;

use sqlx::any::AnyArguments;
use sqlx::{Any, Transaction};

use super::{Backend, DbError, Value};

/// Bound values per statement at most: under SQLite's default limit (32,766) and PostgreSQL's
/// (65,535).
pub const MAX_VALUES: usize = 30_000;

type AnyQuery<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;

fn bind_to<'q>(query: AnyQuery<'q>, value: Value<'q>) -> AnyQuery<'q> {
    match value {
        Value::Text(Some(Cow::Borrowed(v))) => query.bind(v),
        Value::Text(Some(Cow::Owned(v))) => query.bind(v),
        Value::Text(None) => query.bind(None::<&str>),
        Value::Int(v) => query.bind(v),
    }
}

/// The rows to insert into one table.
#[derive(Debug, Clone)]
pub struct Insert<'q> {
    /// `INSERT INTO table (a, b)`.
    into: &'static str,
    /// What follows the `VALUES` list: an `ON CONFLICT` clause, or nothing.
    then: &'static str,
    width: usize,
    values: Vec<Value<'q>>,
}

impl<'q> Insert<'q> {
    /// Rows of `width` values for `into` (`INSERT INTO table (a, b)`).
    pub fn new(into: &'static str, width: usize) -> Insert<'q> {
        Insert {
            into,
            then: "",
            width,
            values: Vec::new(),
        }
    }

    /// The clause after the `VALUES` list (an upsert's `ON CONFLICT`). A statement may touch a
    /// row only once, so rows that could meet the same conflict must be merged beforehand (the
    /// pieces of an insert split under `MAX_VALUES` then never meet either).
    pub fn then(mut self, clause: &'static str) -> Insert<'q> {
        self.then = clause;
        self
    }

    /// Adds a row; it must have `width` values.
    pub fn row<const N: usize>(&mut self, row: [Value<'q>; N]) {
        assert_eq!(N, self.width, "a row of {} for {}", N, self.into);
        self.values.extend(row);
    }

    fn rows(&self) -> usize {
        self.values.len() / self.width
    }

    fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The statement text with placeholders numbered from `start`.
    fn sql(&self, backend: Backend, start: usize) -> String {
        let values = backend.placeholders_from(start, self.rows(), self.width);
        if self.then.is_empty() {
            format!("{} VALUES {values}", self.into)
        } else {
            format!("{} VALUES {values} {}", self.into, self.then)
        }
    }

    /// This insert cut into pieces of at most `MAX_VALUES` values, whole rows each.
    fn split(self) -> Vec<Insert<'q>> {
        let per_piece = (MAX_VALUES / self.width).max(1) * self.width;
        if self.values.len() <= per_piece {
            return vec![self];
        }
        let Insert {
            into,
            then,
            width,
            values,
        } = self;
        let mut pieces = Vec::new();
        let mut values = values.into_iter().peekable();
        while values.peek().is_some() {
            pieces.push(Insert {
                into,
                then,
                width,
                values: values.by_ref().take(per_piece).collect(),
            });
        }
        pieces
    }
}

/// Runs the inserts, in order, inside `tx`: one statement each on SQLite; on PostgreSQL as
/// few statements as `MAX_VALUES` allows (one for a publish batch), each insert a part of a
/// `WITH` statement. PostgreSQL promises no order among the parts of a statement, and none can
/// see the rows another part adds (foreign keys are checked at the end of the statement, so an
/// item and its audience rows may go together). So that several writers cannot deadlock, at
/// most one insert of a call may take row locks that other writers wait for (an upsert of
/// shared totals), with its rows in a fixed order.
pub async fn insert_all(tx: &mut Transaction<'_, Any>, inserts: Vec<Insert<'_>>) -> Result<(), DbError> {
    let backend = Backend::of_connection(tx);
    let pieces: Vec<Insert> = inserts
        .into_iter()
        .filter(|i| !i.is_empty())
        .flat_map(Insert::split)
        .collect();
    for statement in statements(backend, pieces) {
        let mut start = 1;
        let mut parts: Vec<String> = Vec::with_capacity(statement.len());
        for insert in &statement {
            parts.push(insert.sql(backend, start));
            start += insert.values.len();
        }
        let main = parts.pop().unwrap_or_default();
        let sql = if parts.is_empty() {
            main
        } else {
            let with: Vec<String> = parts
                .iter()
                .enumerate()
                .map(|(n, part)| format!("part{n} AS ({part})"))
                .collect();
            format!("WITH {} {main}", with.join(", "))
        };
        let mut query = sqlx::query(&sql);
        for insert in statement {
            for value in insert.values {
                query = bind_to(query, value);
            }
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The pieces grouped into statements: alone on SQLite; on PostgreSQL consecutive pieces
/// together while their values fit in `MAX_VALUES`.
fn statements(backend: Backend, pieces: Vec<Insert<'_>>) -> Vec<Vec<Insert<'_>>> {
    let mut statements: Vec<Vec<Insert>> = Vec::new();
    let mut values_in_last = 0;
    for piece in pieces {
        let n = piece.values.len();
        match statements.last_mut() {
            Some(last) if backend == Backend::Postgres && values_in_last + n <= MAX_VALUES => {
                last.push(piece);
                values_in_last += n;
            }
            _ => {
                statements.push(vec![piece]);
                values_in_last = n;
            }
        }
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::scratch::ScratchDb;

    fn pairs(n: usize) -> Insert<'static> {
        let mut insert = Insert::new("INSERT INTO settings (key, value)", 2);
        for i in 0..n {
            insert.row([format!("k{i}").into(), "v".into()]);
        }
        insert
    }

    #[test]
    fn a_large_insert_is_cut_into_whole_rows_under_the_limit() {
        let pieces = pairs(MAX_VALUES).split();
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].rows(), MAX_VALUES / 2);
        assert_eq!(pieces[1].rows(), MAX_VALUES / 2);
        let mut odd = Insert::new("INSERT INTO t (a, b, c, d, e, f, g)", 7);
        for _ in 0..MAX_VALUES / 7 + 1 {
            odd.row(std::array::from_fn::<Value, 7, _>(|_| Value::Int(Some(1))));
        }
        let pieces = odd.split();
        assert_eq!(
            pieces.iter().map(Insert::rows).collect::<Vec<_>>(),
            [MAX_VALUES / 7, 1]
        );
    }

    #[test]
    fn postgres_numbers_the_parts_of_one_statement_in_sequence() {
        let mut upsert = Insert::new("INSERT INTO c (k, n)", 2).then("ON CONFLICT (k) DO NOTHING");
        upsert.row(["a".into(), 1i64.into()]);
        let parts = statements(Backend::Postgres, vec![pairs(2), upsert.clone()]);
        assert_eq!(parts.len(), 1);
        assert_eq!(
            parts[0][0].sql(Backend::Postgres, 1),
            "INSERT INTO settings (key, value) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            parts[0][1].sql(Backend::Postgres, 5),
            "INSERT INTO c (k, n) VALUES ($5, $6) ON CONFLICT (k) DO NOTHING"
        );
        assert_eq!(statements(Backend::Sqlite, vec![pairs(2), upsert]).len(), 2);
    }

    #[tokio::test]
    async fn inserts_past_the_limit_of_one_statement_are_all_written() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let scratch = ScratchDb::new(backend).await;
            let mut tx = scratch.db.begin_write().await.unwrap();
            let rows = MAX_VALUES / 2 + 10;
            let mut later = Insert::new("INSERT INTO settings (key, value)", 2);
            later.row(["last".into(), "v".into()]);
            insert_all(
                &mut tx,
                vec![
                    pairs(rows),
                    Insert::new("INSERT INTO settings (key, value)", 2),
                    later,
                ],
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM settings WHERE value = 'v'")
                .fetch_one(scratch.db.pool())
                .await
                .unwrap();
            assert_eq!(n as usize, rows + 1, "{backend:?}");
        }
    }
}
