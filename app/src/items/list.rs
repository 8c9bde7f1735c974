//! What a reader sees: pages of the items that reach them, filtered and ordered by a cursor,
//! and one item as they see it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::{Any, FromRow};

use super::audience::{keys_reaching, names_sql, reaches_sql};
use super::payload::FieldError;
use super::status::parse_text;
use super::{Category, ItemError, ItemFilter, ItemPage, ItemView, Order, Status, localize};
use crate::db::{Db, DbError, Value};

/// The user an item list or stream is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub user_id: crate::orgs::UserId,
    pub org_id: crate::orgs::OrgId,
    pub language: String,
}

/// Binds the values of a dynamically built query, in placeholder order.
fn bind_all<'q, O>(
    mut q: QueryAs<'q, Any, O, AnyArguments<'q>>,
    binds: &'q [Value<'_>],
) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Value::Text(s) => q.bind(s.as_deref()),
            Value::Int(i) => q.bind(*i),
        };
    }
    q
}

/// An item row as a reader sees it (their state joined in), and its sort key.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub(crate) struct ViewRow {
    pub(crate) id: String,
    pub(crate) category: String,
    pub(crate) workspace: String,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) link: Option<String>,
    pub(crate) due_at: Option<i64>,
    pub(crate) status: String,
    pub(crate) created_at: i64,
    pub(crate) read_at: Option<i64>,
    pub(crate) archived_at: Option<i64>,
    pub(crate) snoozed_until: Option<i64>,
    pub(crate) sort_key: i64,
}

impl ViewRow {
    pub(crate) fn into_view(self, language: &str) -> ItemView {
        let category = Category::parse(&self.category).unwrap_or(Category::Transactional);
        ItemView {
            id: self.id.into(),
            kind: category.kind(),
            category,
            workspace: self.workspace.into(),
            title: localize(&parse_text(&self.title), language).to_string(),
            body: localize(&parse_text(&self.body), language).to_string(),
            link: self.link,
            due_at: self.due_at,
            status: Status::parse(&self.status).unwrap_or(Status::Open),
            created_at: self.created_at,
            read: self.read_at.is_some(),
            archived: self.archived_at.is_some(),
            snoozed_until: self.snoozed_until,
        }
    }
}

/// Sorts notifications (no due date) after every action in due-date order.
const NO_DUE_DATE: i64 = 9_000_000_000_000_000;

/// An expired item shows as `expired`, whatever its producer made of it before.
pub(crate) const VIEW_COLUMNS: &str = "i.id, i.category, i.workspace, i.title, i.body, i.link, i.due_at, \
     CASE WHEN i.expired_at IS NULL THEN i.status ELSE 'expired' END AS status, i.created_at, \
     s.read_at, s.archived_at, s.snoozed_until";

fn encode_cursor(order: Order, key: i64, id: &str) -> String {
    let tag = if order == Order::Newest { 'n' } else { 'd' };
    URL_SAFE_NO_PAD.encode(format!("{tag}:{key}:{id}"))
}

fn decode_cursor(order: Order, cursor: &str) -> Option<(i64, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let mut parts = raw.splitn(3, ':');
    let tag = parts.next()?;
    if tag != if order == Order::Newest { "n" } else { "d" } {
        return None;
    }
    Some((parts.next()?.parse().ok()?, parts.next()?.to_string()))
}

/// A page of the items that reach the reader, filtered and ordered.
pub async fn list(db: &Db, reader: &Reader, filter: &ItemFilter) -> Result<ItemPage, ItemError> {
    let roles = crate::orgs::roles_of(db, &reader.user_id).await?;
    list_for(db, reader, &roles, filter).await
}

/// `list` for a reader whose current roles the caller already read (a request's session).
pub async fn list_for(
    db: &Db,
    reader: &Reader,
    roles: &[crate::orgs::Role],
    filter: &ItemFilter,
) -> Result<ItemPage, ItemError> {
    let limit = i64::from(filter.limit.unwrap_or(50).clamp(1, 100));
    // Matches the expression of the index items_open_by_due, so the walk is in index order.
    let sort_key = match filter.order {
        Order::Newest => "i.created_at".to_string(),
        Order::DueDate => format!("COALESCE(i.due_at, {NO_DUE_DATE})"),
    };
    let keys = keys_reaching(db, reader, roles).await?;
    let mut binds = vec![
        Value::from(reader.user_id.clone()),
        Value::from(reader.org_id.clone()),
    ];
    let mut by_role = Vec::with_capacity(keys.len());
    for key in keys {
        binds.push(Value::from(key));
        by_role.push(format!("${}", binds.len()));
    }
    let by_role = if by_role.is_empty() {
        String::new()
    } else {
        format!("i.audience_roles IN ({}) OR ", by_role.join(", "))
    };
    let mut sql = format!(
        "SELECT {VIEW_COLUMNS}, {sort_key} AS sort_key FROM items i \
         LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id = $1 \
         WHERE i.org_id = $2 AND i.expired_at IS NULL AND ({by_role}\
         {})",
        names_sql("i.id", "$1")
    );
    let param = |binds: &mut Vec<Value<'static>>, b: Value<'static>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    sql.push_str(if filter.archived {
        " AND s.archived_at IS NOT NULL"
    } else {
        " AND (s.archived_at IS NULL)"
    });
    if !filter.include_closed {
        sql.push_str(" AND i.status = 'open'");
    }
    if let Some(kind) = filter.kind {
        let p = param(&mut binds, Value::from(kind.as_str()));
        sql.push_str(&format!(" AND i.kind = {p}"));
    }
    if let Some(category) = filter.category {
        let p = param(&mut binds, Value::from(category.as_str()));
        sql.push_str(&format!(" AND i.category = {p}"));
    }
    if let Some(workspace) = &filter.workspace {
        let p = param(&mut binds, Value::from(workspace.clone()));
        sql.push_str(&format!(" AND i.workspace = {p}"));
    }
    if filter.unread {
        sql.push_str(" AND s.read_at IS NULL");
    }
    let terms = filter
        .search_text()
        .map(super::search::query_terms)
        .unwrap_or_default();
    if !terms.is_empty() {
        // The words of the text this reader is shown (see `search`).
        let backend = db.backend();
        let lookups: Vec<String> = super::search::lookup_keys(&reader.language)
            .iter()
            .map(|key| {
                let p = param(&mut binds, Value::from(backend.json_key(key)));
                backend.json_text("i.search_words", &p)
            })
            .collect();
        let words = format!("COALESCE({})", lookups.join(", "));
        for term in terms {
            // Terms are letters and digits only: nothing in them is a LIKE wildcard.
            let p = param(&mut binds, Value::from(format!("% {term}%")));
            sql.push_str(&format!(" AND {words} LIKE {p}"));
        }
    }
    if let Some(cursor) = &filter.cursor {
        let (key, id) = decode_cursor(filter.order, cursor).ok_or_else(|| FieldError {
            field: "cursor".into(),
            message: "not a cursor of this list".into(),
        })?;
        let k = param(&mut binds, Value::from(key));
        let k2 = param(&mut binds, Value::from(key));
        let i = param(&mut binds, Value::from(id));
        let cmp = if filter.order == Order::Newest { "<" } else { ">" };
        sql.push_str(&format!(
            " AND ({sort_key} {cmp} {k} OR ({sort_key} = {k2} AND i.id {cmp} {i}))"
        ));
    }
    let dir = if filter.order == Order::Newest {
        "DESC"
    } else {
        "ASC"
    };
    let l = param(&mut binds, Value::from(limit + 1));
    sql.push_str(&format!(" ORDER BY {sort_key} {dir}, i.id {dir} LIMIT {l}"));

    let rows: Vec<ViewRow> = bind_all(sqlx::query_as(&sql), &binds)
        .fetch_all(db.pool())
        .await?;
    let more = rows.len() as i64 > limit;
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    for row in rows.into_iter().take(limit as usize) {
        last = Some((row.sort_key, row.id.clone()));
        items.push(row.into_view(&reader.language));
    }
    let next_cursor = if more {
        last.map(|(k, id)| encode_cursor(filter.order, k, &id))
    } else {
        None
    };
    Ok(ItemPage { items, next_cursor })
}

/// Visits the items of a list in its order, page by page, until `visit` answers false: for
/// work on a whole list (bulk actions, digests) that would otherwise page by hand.
pub async fn visit_list(
    db: &Db,
    reader: &Reader,
    roles: &[crate::orgs::Role],
    filter: &ItemFilter,
    mut visit: impl FnMut(ItemView) -> bool,
) -> Result<(), ItemError> {
    let mut filter = ItemFilter {
        cursor: None,
        limit: Some(100),
        ..filter.clone()
    };
    loop {
        let page = list_for(db, reader, roles, &filter).await?;
        for item in page.items {
            if !visit(item) {
                return Ok(());
            }
        }
        match page.next_cursor {
            Some(next) => filter.cursor = Some(next),
            None => return Ok(()),
        }
    }
}

/// One item as the reader sees it, if it reaches them and has not expired (whatever its status
/// or their state).
pub async fn view(db: &Db, reader: &Reader, item_id: &str) -> Result<Option<ItemView>, DbError> {
    Ok(view_any(db, reader, item_id)
        .await?
        .filter(|item| item.status != Status::Expired))
}

/// `view`, expired items too (with status `Expired`): what a live stream needs to tell a
/// reader that an item they may hold has gone.
pub(crate) async fn view_any(db: &Db, reader: &Reader, item_id: &str) -> Result<Option<ItemView>, DbError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS}, i.created_at AS sort_key FROM items i \
         LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id = $1 \
         WHERE i.org_id = $2 AND i.id = $3 AND {}",
        reaches_sql("i.id", "$1")
    );
    let row: Option<ViewRow> = sqlx::query_as(&sql)
        .bind(&reader.user_id)
        .bind(&reader.org_id)
        .bind(item_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| r.into_view(&reader.language)))
}
