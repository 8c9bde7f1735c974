//! Storage of items, their audience and per-user state. Delivery is evaluated at read time
//! (fan-out on read): an item reaches a user when it is in the user's org and targets one of
//! the user's current roles, or names the user. Publishing writes no per-recipient rows; it
//! bumps the org's open-item total for the item's role key, which the counts read (see
//! `tally`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::value::RawValue;
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::{Any, FromRow};

use super::payload::{ApiItem, Audience, Catalog, FieldError, ValidItem, format_time};
use super::tally::{ItemFacts, Tally, audience_key, key_reaches};
use super::{Category, Counts, ItemFilter, ItemPage, ItemView, Kind, LocalizedText, Order, Status, localize};
use crate::db::insert::{Insert, MAX_VALUES, insert_all};
use crate::db::{Backend, Db, DbError, Value, now_ms};
use crate::live::{self, Change, LiveMessage, LogEntry, LogKind, Removal};

#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("the idempotency key was already used with a different payload")]
    IdempotencyConflict,
    #[error("no such item")]
    NotFound,
    #[error("only actions can be completed or cancelled")]
    NotAnAction,
    #[error("the action is already {0}")]
    AlreadyClosed(&'static str),
    #[error("a mandatory action cannot be archived")]
    MandatoryCannotBeArchived,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ItemError {
    fn from(err: sqlx::Error) -> Self {
        ItemError::Db(err.into())
    }
}

/// The user an item list or stream is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub user_id: String,
    pub org_id: String,
    pub language: String,
}

/// The condition "item `i` reaches user `$1`" (with `i.org_id = $2` alongside).
const REACHES: &str = "(EXISTS (SELECT 1 FROM item_audience_roles ar JOIN role_grants g ON g.role = ar.role \
     WHERE ar.item_id = i.id AND g.user_id = $1) \
     OR EXISTS (SELECT 1 FROM item_audience_users au WHERE au.item_id = i.id AND au.user_id = $1))";

pub async fn catalog(db: &Db) -> Result<Catalog, DbError> {
    Ok(Catalog {
        roles: crate::orgs::role_catalog(db).await?.into_iter().collect(),
        workspaces: crate::orgs::workspace_catalog(db).await?.into_iter().collect(),
    })
}

/// One item to publish and who publishes it.
#[derive(Debug, Clone)]
pub struct Publication {
    pub item: ValidItem,
    pub api_key_id: Option<String>,
    /// Who, for the audit trail.
    pub actor: String,
}

/// What publishing one item gives: the item and whether it was created now (a repeated
/// idempotency key with the same payload gives the existing item).
pub type Published = Result<(ApiItem, bool), ItemError>;

/// Most publications written in one transaction. Under load a bigger batch shares more of the
/// pages it changes: a batch of 64 items over 100 organisations touched ~47 leaf pages of each
/// per-organisation index, one of 256 ~92, half as many per item (same-day A/B, SQLite
/// 1,000,000 items, 256 producers: 4,250 and 3,914 items/s at 64, 4,617 and 5,144 at 256).
pub const MAX_BATCH: usize = 256;

/// Publishes an item (spec §6). Returns the item and whether it was created now; a repeated
/// idempotency key with the same payload returns the existing item.
pub async fn publish(db: &Db, item: &ValidItem, api_key_id: Option<&str>, actor: &str) -> Published {
    let publication = Publication {
        item: item.clone(),
        api_key_id: api_key_id.map(str::to_string),
        actor: actor.to_string(),
    };
    let mut results = publish_all(db, std::slice::from_ref(&publication)).await;
    results.pop().expect("one result per publication")
}

/// Publishes several items, up to `MAX_BATCH` per write transaction (one commit), with one
/// statement per table for all of them. Each gets, in order, the result it would get published
/// on its own after the ones before it: an invalid one is refused without failing the others,
/// and a repeated idempotency key (in the database or earlier in the batch) gives the item it
/// names. A batch takes its locks in one order (count rows and organisations' log locks,
/// sorted), so the batches of several instances on one PostgreSQL cannot deadlock.
pub async fn publish_all(db: &Db, batch: &[Publication]) -> Vec<Published> {
    let mut results = Vec::with_capacity(batch.len());
    for chunk in batch.chunks(MAX_BATCH) {
        match write_retrying(db, chunk).await {
            // Still losing races on keys: one at a time, so only the contested item fails.
            Err(ItemError::Db(DbError::Duplicate(_))) if chunk.len() > 1 => {
                for one in chunk.chunks(1) {
                    let outcome = write_retrying(db, one).await;
                    results.extend(answers(db, one, outcome).await);
                }
            }
            outcome => results.extend(answers(db, chunk, outcome).await),
        }
    }
    results
}

/// Two tries: another writer committing the same idempotency key between this batch's check
/// and its insert fails the insert, and the second try finds that writer's item; two batches
/// that name the same keys in crossed orders may wait for each other, and PostgreSQL ends one.
async fn write_retrying(db: &Db, batch: &[Publication]) -> Result<Vec<Outcome>, ItemError> {
    let first = write_batch(db, batch).await;
    if matches!(
        first,
        Err(ItemError::Db(DbError::Duplicate(_) | DbError::Deadlock(_)))
    ) {
        return write_batch(db, batch).await;
    }
    first
}

/// Each publication's answer, once its batch is written (or failed as a whole).
async fn answers(
    db: &Db,
    batch: &[Publication],
    outcomes: Result<Vec<Outcome>, ItemError>,
) -> Vec<Published> {
    let outcomes = match outcomes {
        Ok(outcomes) => outcomes,
        Err(err) => {
            tracing::warn!(error = %err, items = batch.len(), "cannot publish");
            return batch.iter().map(|_| Err(err.for_each_item())).collect();
        }
    };
    let mut announced = BTreeSet::new();
    let mut results = Vec::with_capacity(batch.len());
    for (outcome, publication) in outcomes.into_iter().zip(batch) {
        let item = &publication.item;
        results.push(match outcome {
            Outcome::Created { id, now } => {
                if announced.insert(item.org_id.as_str()) {
                    db.announce_change(&item.org_id);
                }
                Ok((as_stored(item, id, now), true))
            }
            Outcome::Existing(id) => match get(db, &id).await {
                Ok(Some(existing)) => Ok((existing, false)),
                Ok(None) => Err(ItemError::NotFound),
                Err(err) => Err(err.into()),
            },
            Outcome::Refused(err) => Err(err),
        });
    }
    results
}

impl ItemError {
    /// The error again, for each item of a batch that failed as a whole.
    fn for_each_item(&self) -> ItemError {
        match self {
            ItemError::IdempotencyConflict | ItemError::Db(DbError::Duplicate(_)) => {
                ItemError::IdempotencyConflict
            }
            other => ItemError::Db(DbError::Failed(other.to_string())),
        }
    }
}

/// What became of one publication of a batch.
enum Outcome {
    Created {
        id: String,
        now: i64,
    },
    /// Its idempotency key names this item, published before with the same payload.
    Existing(String),
    Refused(ItemError),
}

/// An item of the batch that will be written, with what it is written with.
struct Accepted<'a> {
    publication: &'a Publication,
    id: String,
    fingerprint: String,
    key: String,
}

/// Checks and writes a batch in one transaction; everything is read on the transaction's own
/// connection (asking the pool for a second one while holding the write lock starves the pool
/// under concurrent publishes).
async fn write_batch(db: &Db, batch: &[Publication]) -> Result<Vec<Outcome>, ItemError> {
    let mut tx = db.begin_write().await?;
    let Known {
        orgs: known_orgs,
        org_of_user,
        mut used_keys,
    } = Known::read(&mut tx, batch).await?;

    let now = now_ms();
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut accepted = Vec::new();
    for publication in batch {
        let item = &publication.item;
        let fingerprint = item.fingerprint();
        let repeated = item
            .idempotency_key
            .as_ref()
            .and_then(|key| used_keys.get(&(item.org_id.clone(), key.clone())));
        let stranger = item
            .user_ids
            .iter()
            .enumerate()
            .find(|(_, u)| org_of_user.get(*u) != Some(&item.org_id));
        let outcome = if let Some((id, hash)) = repeated {
            if *hash == fingerprint {
                Outcome::Existing(id.clone())
            } else {
                Outcome::Refused(ItemError::IdempotencyConflict)
            }
        } else if !known_orgs.contains(&item.org_id) {
            Outcome::Refused(
                FieldError {
                    field: "org_id".into(),
                    message: format!("unknown organisation {:?}", item.org_id),
                }
                .into(),
            )
        } else if let Some((i, user_id)) = stranger {
            Outcome::Refused(
                FieldError {
                    field: format!("audience.user_ids[{i}]"),
                    message: format!("no user {user_id:?} in organisation {:?}", item.org_id),
                }
                .into(),
            )
        } else {
            // Time-ordered (UUIDv7): a batch's rows land at the end of the id indexes instead of
            // on a random page of each, which a large table would have to read and rewrite.
            let id = uuid::Uuid::now_v7().to_string();
            if let Some(key) = &item.idempotency_key {
                used_keys.insert(
                    (item.org_id.clone(), key.clone()),
                    (id.clone(), fingerprint.clone()),
                );
            }
            accepted.push(Accepted {
                publication,
                id: id.clone(),
                fingerprint,
                key: audience_key(&item.roles),
            });
            Outcome::Created { id, now }
        };
        outcomes.push(outcome);
    }
    if accepted.is_empty() {
        tx.rollback().await?;
        return Ok(outcomes);
    }
    let mut open = BTreeMap::new();
    for a in &accepted {
        *open
            .entry((
                a.publication.item.org_id.as_str(),
                a.key.as_str(),
                a.publication.item.category,
            ))
            .or_insert(0) += 1;
    }
    let audit: Vec<crate::audit::NewAuditEntry> = accepted
        .iter()
        .map(|a| {
            let item = &a.publication.item;
            crate::audit::NewAuditEntry {
                org_id: Some(&item.org_id),
                actor: &a.publication.actor,
                action: "item.publish",
                subject: Some(&a.id),
                detail: serde_json::json!({ "item_id": a.id, "kind": item.kind().as_str(), "category": item.category.as_str(), "api_key_id": a.publication.api_key_id })
                    .to_string(),
            }
        })
        .collect();
    // The count rows are the only rows of these that other writers wait for (`insert_all`).
    let mut rows = item_rows(&accepted, now);
    rows.push(count_rows(&open));
    rows.push(crate::audit::rows(&audit));
    insert_all(&mut tx, rows).await?;
    let entries: Vec<live::NewEntry> = accepted
        .iter()
        .map(|a| live::NewEntry {
            org_id: &a.publication.item.org_id,
            user_id: None,
            kind: LogKind::Published,
            subject: &a.id,
        })
        .collect();
    live::append_all(&mut tx, db, &entries).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// What a batch is checked against, read in one statement (more when it names more users than
/// one statement can bind): which of its organisations exist, the organisation of each user it
/// names, and the items its idempotency keys already name.
#[derive(Default)]
struct Known {
    orgs: BTreeSet<String>,
    org_of_user: BTreeMap<String, String>,
    /// (org, key) -> (item id, payload fingerprint).
    used_keys: BTreeMap<(String, String), (String, String)>,
}

impl Known {
    /// Reads on the transaction's own connection. The named users are looked up in pieces
    /// under `MAX_VALUES` (a batch may name tens of thousands).
    async fn read(tx: &mut sqlx::Transaction<'_, Any>, batch: &[Publication]) -> Result<Known, DbError> {
        let orgs: BTreeSet<&str> = batch.iter().map(|p| p.item.org_id.as_str()).collect();
        let users: BTreeSet<&str> = batch
            .iter()
            .flat_map(|p| p.item.user_ids.iter().map(String::as_str))
            .collect();
        let keys: BTreeSet<&str> = batch
            .iter()
            .filter_map(|p| p.item.idempotency_key.as_deref())
            .collect();
        let backend = Backend::of_connection(tx);
        let users: Vec<&str> = users.into_iter().collect();
        let mut pieces: Vec<&[&str]> = users.chunks(MAX_VALUES / 2).collect();
        if pieces.is_empty() {
            pieces.push(&[]);
        }
        let mut known = Known::default();
        for (n, users) in pieces.into_iter().enumerate() {
            // The organisations and keys go with the first piece of users.
            let (orgs, keys): (Vec<&str>, Vec<&str>) = if n == 0 {
                (orgs.iter().copied().collect(), keys.iter().copied().collect())
            } else {
                (Vec::new(), Vec::new())
            };
            known.read_piece(tx, backend, &orgs, users, &keys).await?;
        }
        Ok(known)
    }

    async fn read_piece<'q>(
        &mut self,
        tx: &mut sqlx::Transaction<'_, Any>,
        backend: Backend,
        orgs: &[&'q str],
        users: &[&'q str],
        keys: &[&'q str],
    ) -> Result<(), DbError> {
        let mut parts = Vec::new();
        let mut values: Vec<&str> = Vec::new();
        let mut list = |of: &[&'q str]| {
            let list = backend.numbered(values.len() + 1, of.len());
            values.extend(of);
            list
        };
        if !orgs.is_empty() {
            let list = list(orgs);
            parts.push(format!(
                "SELECT 'org', id, NULL, NULL, NULL FROM organisations WHERE id IN ({list})"
            ));
        }
        if !users.is_empty() {
            let list = list(users);
            parts.push(format!(
                "SELECT 'user', id, org_id, NULL, NULL FROM users WHERE id IN ({list})"
            ));
        }
        if !keys.is_empty() {
            // Both columns, so the lookup walks the (org_id, idempotency_key) unique index.
            let in_orgs = list(orgs);
            let in_keys = list(keys);
            parts.push(format!(
                "SELECT 'key', org_id, idempotency_key, id, payload_hash FROM items \
                 WHERE org_id IN ({in_orgs}) AND idempotency_key IN ({in_keys})"
            ));
        }
        if parts.is_empty() {
            return Ok(());
        }
        let sql = parts.join(" UNION ALL ");
        type Row = (String, String, Option<String>, Option<String>, Option<String>);
        let mut query = sqlx::query_as::<_, Row>(&sql);
        for value in values {
            query = query.bind(value);
        }
        for (what, a, b, c, d) in query.fetch_all(&mut **tx).await? {
            match what.as_str() {
                "org" => {
                    self.orgs.insert(a);
                }
                "user" => {
                    self.org_of_user.insert(a, b.unwrap_or_default());
                }
                _ => {
                    self.used_keys.insert(
                        (a, b.unwrap_or_default()),
                        (c.unwrap_or_default(), d.unwrap_or_default()),
                    );
                }
            }
        }
        Ok(())
    }
}

/// The accepted items of a batch, their audience roles and named users, as rows to insert.
fn item_rows<'q>(accepted: &'q [Accepted<'q>], now: i64) -> Vec<Insert<'q>> {
    let mut items = Insert::new(
        "INSERT INTO items (id, org_id, kind, category, workspace, title, body, link, due_at, status, \
         idempotency_key, payload_hash, api_key_id, created_at, updated_at, audience_roles, \
         next_reminder_at)",
        17,
    );
    let mut roles = Insert::new("INSERT INTO item_audience_roles (item_id, role)", 2);
    let mut users = Insert::new("INSERT INTO item_audience_users (item_id, user_id)", 2);
    for a in accepted {
        let item = &a.publication.item;
        items.row([
            a.id.as_str().into(),
            item.org_id.as_str().into(),
            item.kind().as_str().into(),
            item.category.as_str().into(),
            item.workspace.as_str().into(),
            serde_json::to_string(&item.title).unwrap_or_default().into(),
            serde_json::to_string(&item.body).unwrap_or_default().into(),
            item.link.as_deref().into(),
            item.due_at.into(),
            Status::Open.as_str().into(),
            item.idempotency_key.as_deref().into(),
            a.fingerprint.as_str().into(),
            a.publication.api_key_id.as_deref().into(),
            now.into(),
            now.into(),
            a.key.as_str().into(),
            match item.kind() {
                Kind::Action => crate::email::outbox::next_reminder_at(item.due_at, [None; 3]),
                Kind::Notification => None,
            }
            .into(),
        ]);
        for role in &item.roles {
            roles.row([a.id.as_str().into(), role.as_str().into()]);
        }
        for user in &item.user_ids {
            users.row([a.id.as_str().into(), user.as_str().into()]);
        }
    }
    vec![items, roles, users]
}

/// The item just stored, as `get` would read it back (without reading it back).
fn as_stored(item: &ValidItem, id: String, now: i64) -> ApiItem {
    let mut user_ids = item.user_ids.clone();
    user_ids.sort();
    ApiItem {
        id,
        kind: item.kind(),
        category: item.category,
        org_id: item.org_id.clone(),
        workspace: item.workspace.clone(),
        audience: Audience {
            roles: item.roles.iter().cloned().collect(),
            user_ids,
        },
        title: item.title.clone(),
        body: item.body.clone(),
        link: item.link.clone(),
        due_at: item.due_at.map(format_time),
        status: Status::Open,
        idempotency_key: item.idempotency_key.clone(),
        created_at: format_time(now),
        updated_at: format_time(now),
    }
}

/// Moves the org's open-item total of a role key and category by `delta` (the row stays at 0).
async fn count_open(
    tx: &mut sqlx::Transaction<'_, Any>,
    org_id: &str,
    key: &str,
    category: Category,
    delta: i64,
) -> Result<(), DbError> {
    count_open_all(tx, &[((org_id, key, category), delta)].into_iter().collect()).await
}

/// Moves the org's open-item totals of each (org, role key, category) by its delta, in one
/// statement (each total appears once, as an upsert may touch a row only once).
async fn count_open_all(
    tx: &mut sqlx::Transaction<'_, Any>,
    deltas: &BTreeMap<(&str, &str, Category), i64>,
) -> Result<(), DbError> {
    insert_all(tx, vec![count_rows(deltas)]).await
}

/// The upsert of `count_open_all`, in the map's (sorted) order: the order every writer locks
/// the count rows in.
fn count_rows<'q>(deltas: &BTreeMap<(&'q str, &'q str, Category), i64>) -> Insert<'q> {
    let mut insert = Insert::new(
        "INSERT INTO audience_counts (org_id, audience_roles, category, open_items)",
        4,
    )
    .then(
        "ON CONFLICT (org_id, audience_roles, category) \
         DO UPDATE SET open_items = audience_counts.open_items + excluded.open_items",
    );
    for ((org_id, key, category), delta) in deltas {
        insert.row([
            (*org_id).into(),
            (*key).into(),
            category.as_str().into(),
            (*delta).into(),
        ]);
    }
    insert
}

/// Recomputes every org's open-item totals from the items (after a bulk load that bypassed
/// `publish`, such as the benchmark seed).
pub async fn recount_audiences(db: &Db) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM audience_counts")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO audience_counts (org_id, audience_roles, category, open_items) \
         SELECT org_id, audience_roles, category, SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) \
         FROM items GROUP BY org_id, audience_roles, category",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

type ItemRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    String,
    Option<String>,
    i64,
    i64,
);

/// An item as the producer API shows it.
pub async fn get(db: &Db, id: &str) -> Result<Option<ApiItem>, DbError> {
    let row: Option<ItemRow> = sqlx::query_as(
        "SELECT id, org_id, kind, category, workspace, title, body, link, due_at, status, idempotency_key, \
         created_at, updated_at FROM items WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some((
        id,
        org_id,
        _kind,
        category,
        workspace,
        title,
        body,
        link,
        due_at,
        status,
        key,
        created,
        updated,
    )) = row
    else {
        return Ok(None);
    };
    let roles: Vec<(String,)> =
        sqlx::query_as("SELECT role FROM item_audience_roles WHERE item_id = $1 ORDER BY role")
            .bind(&id)
            .fetch_all(db.pool())
            .await?;
    let users: Vec<(String,)> =
        sqlx::query_as("SELECT user_id FROM item_audience_users WHERE item_id = $1 ORDER BY user_id")
            .bind(&id)
            .fetch_all(db.pool())
            .await?;
    let category = Category::parse(&category).unwrap_or(Category::Transactional);
    Ok(Some(ApiItem {
        id,
        kind: category.kind(),
        category,
        org_id,
        workspace,
        audience: Audience {
            roles: roles.into_iter().map(|r| r.0).collect(),
            user_ids: users.into_iter().map(|r| r.0).collect(),
        },
        title: parse_text(&title),
        body: parse_text(&body),
        link,
        due_at: due_at.map(format_time),
        status: Status::parse(&status).unwrap_or(Status::Open),
        idempotency_key: key,
        created_at: format_time(created),
        updated_at: format_time(updated),
    }))
}

fn parse_text(json: &str) -> LocalizedText {
    serde_json::from_str(json).unwrap_or_default()
}

/// Completes or cancels an open action (org-wide: for every recipient at once).
/// Repeating the same transition changes nothing.
pub async fn set_status(db: &Db, id: &str, to: Status, actor: &str) -> Result<ApiItem, ItemError> {
    let mut tx = db.begin_write().await?;
    let row: Option<(String, String, String, String)> =
        sqlx::query_as("SELECT org_id, category, status, audience_roles FROM items WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let (org_id, category, status, key) = row.ok_or(ItemError::NotFound)?;
    let category = Category::parse(&category).unwrap_or(Category::Transactional);
    if category.kind() != Kind::Action {
        return Err(ItemError::NotAnAction);
    }
    let status = Status::parse(&status).unwrap_or(Status::Open);
    if status == to {
        tx.rollback().await?;
        return get(db, id).await?.ok_or(ItemError::NotFound);
    }
    if status != Status::Open {
        return Err(ItemError::AlreadyClosed(status.as_str()));
    }
    sqlx::query("UPDATE items SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    count_open(&mut tx, &org_id, &key, category, -1).await?;
    sqlx::query("UPDATE item_states SET item_open = 0 WHERE item_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    // Email about an action that is no longer open (its first email or a reminder) is moot.
    sqlx::query(
        "UPDATE outbox SET status = 'skipped', locked_until = NULL WHERE item_id = $1 AND status = 'pending'",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let action = if to == Status::Completed {
        "item.complete"
    } else {
        "item.cancel"
    };
    crate::audit::record_in(
        &mut tx,
        Some(&org_id),
        actor,
        action,
        Some(id),
        &serde_json::json!({}),
    )
    .await?;
    live::append(&mut tx, db, &org_id, None, LogKind::StatusChanged, id).await?;
    tx.commit().await?;
    db.announce_change(&org_id);
    get(db, id).await?.ok_or(ItemError::NotFound)
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

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
struct ViewRow {
    id: String,
    category: String,
    workspace: String,
    title: String,
    body: String,
    link: Option<String>,
    due_at: Option<i64>,
    status: String,
    created_at: i64,
    read_at: Option<i64>,
    archived_at: Option<i64>,
    sort_key: i64,
}

impl ViewRow {
    fn into_view(self, language: &str) -> ItemView {
        let category = Category::parse(&self.category).unwrap_or(Category::Transactional);
        ItemView {
            id: self.id,
            kind: category.kind(),
            category,
            workspace: self.workspace,
            title: localize(&parse_text(&self.title), language).to_string(),
            body: localize(&parse_text(&self.body), language).to_string(),
            link: self.link,
            due_at: self.due_at,
            status: Status::parse(&self.status).unwrap_or(Status::Open),
            created_at: self.created_at,
            read: self.read_at.is_some(),
            archived: self.archived_at.is_some(),
        }
    }
}

/// Sorts notifications (no due date) after every action in due-date order.
const NO_DUE_DATE: i64 = 9_000_000_000_000_000;

const VIEW_COLUMNS: &str = "i.id, i.category, i.workspace, i.title, i.body, i.link, i.due_at, i.status, i.created_at, \
     s.read_at, s.archived_at";

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

/// The org's role keys that share a role with `roles`.
async fn keys_reaching(db: &Db, reader: &Reader, roles: &[String]) -> Result<Vec<String>, DbError> {
    let keys: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT audience_roles FROM audience_counts WHERE org_id = $1")
            .bind(&reader.org_id)
            .fetch_all(db.pool())
            .await?;
    Ok(keys
        .into_iter()
        .map(|k| k.0)
        .filter(|k| key_reaches(k, roles))
        .collect())
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
    roles: &[String],
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
         WHERE i.org_id = $2 AND ({by_role}\
         EXISTS (SELECT 1 FROM item_audience_users au WHERE au.item_id = i.id AND au.user_id = $1))"
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

/// One item as the reader sees it, if it reaches them (whatever its status or their state).
pub async fn view(db: &Db, reader: &Reader, item_id: &str) -> Result<Option<ItemView>, DbError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS}, i.created_at AS sort_key FROM items i \
         LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id = $1 \
         WHERE i.org_id = $2 AND i.id = $3 AND {REACHES}"
    );
    let row: Option<ViewRow> = sqlx::query_as(&sql)
        .bind(&reader.user_id)
        .bind(&reader.org_id)
        .bind(item_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| r.into_view(&reader.language)))
}

/// An item as the counts see it: its role key and the reader's state of it.
#[derive(FromRow)]
struct FactsRow {
    category: String,
    status: String,
    due_at: Option<i64>,
    audience_roles: String,
    read_at: Option<i64>,
    archived_at: Option<i64>,
}

impl FactsRow {
    fn facts(&self, now: i64) -> ItemFacts {
        ItemFacts {
            read: self.read_at.is_some(),
            archived: self.archived_at.is_some(),
            ..untouched_facts(&self.category, &self.status, self.due_at, now)
        }
    }
}

/// An item's facts, as stored, for a reader who has not touched it.
fn untouched_facts(category: &str, status: &str, due_at: Option<i64>, now: i64) -> ItemFacts {
    ItemFacts {
        category: Category::parse(category).unwrap_or(Category::Transactional),
        open: status == Status::Open.as_str(),
        overdue: due_at.is_some_and(|d| d < now),
        read: false,
        archived: false,
    }
}

/// The badge and overview counts of the reader (archived items never count): the org's
/// totals of the role keys that reach them, plus the items that name them, corrected by what
/// they read or archived. Reads a few dozen rows, however many items the org has.
pub async fn counts(db: &Db, reader: &Reader) -> Result<Counts, DbError> {
    let roles = crate::orgs::roles_of(db, &reader.user_id).await?;
    counts_at(db, reader, &roles, now_ms()).await
}

/// `counts` as they stand at `now` for a reader holding `roles`.
pub async fn counts_at(db: &Db, reader: &Reader, roles: &[String], now: i64) -> Result<Counts, DbError> {
    let mut tally = Tally::default();
    let totals: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT audience_roles, category, open_items FROM audience_counts WHERE org_id = $1")
            .bind(&reader.org_id)
            .fetch_all(db.pool())
            .await?;
    for (key, category, n) in totals {
        if let (true, Some(category)) = (key_reaches(&key, roles), Category::parse(&category)) {
            tally.add_open(category, n);
        }
    }
    let overdue: Vec<(String, i64)> = sqlx::query_as(
        "SELECT audience_roles, COUNT(*) FROM items \
         WHERE org_id = $1 AND kind = 'action' AND status = 'open' AND due_at < $2 GROUP BY audience_roles",
    )
    .bind(&reader.org_id)
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    for (key, n) in overdue {
        if key_reaches(&key, roles) {
            tally.add_overdue(n);
        }
    }
    let named: Vec<FactsRow> = sqlx::query_as(
        "SELECT i.category, i.status, i.due_at, i.audience_roles, s.read_at, s.archived_at \
         FROM item_audience_users au JOIN items i ON i.id = au.item_id \
         LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id = au.user_id \
         WHERE au.user_id = $1 AND i.org_id = $2 AND i.status = 'open'",
    )
    .bind(&reader.user_id)
    .bind(&reader.org_id)
    .fetch_all(db.pool())
    .await?;
    for row in named.iter().filter(|r| !key_reaches(&r.audience_roles, roles)) {
        tally.add_item(row.facts(now), 1);
    }
    // The user's own read and archived open items, grouped: one index range, a few dozen rows.
    let touched: Vec<(String, String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT audience_roles, category, \
           CAST(CASE WHEN read_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS was_read, \
           CAST(CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS was_archived, \
           CAST(CASE WHEN due_at < $2 THEN 1 ELSE 0 END AS BIGINT) AS late, COUNT(*) \
         FROM item_states WHERE user_id = $1 AND item_open = 1 \
           AND (archived_at IS NOT NULL OR (read_at IS NOT NULL AND category IN ('transactional', 'promotional'))) \
         GROUP BY audience_roles, category, was_read, was_archived, late",
    )
    .bind(&reader.user_id)
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    for (key, category, read, archived, late, n) in touched {
        let Some(category) = Category::parse(&category) else {
            continue;
        };
        if key_reaches(&key, roles) {
            let facts = ItemFacts {
                category,
                open: true,
                overdue: late == 1,
                read: read == 1,
                archived: archived == 1,
            };
            tally.correct(facts, n);
        }
    }
    Ok(tally.counts())
}

/// The first due date after `now` among the organisation's open actions: until then no
/// action of the org becomes overdue, so counts made at `now` keep their overdue figure.
pub async fn next_due_after(db: &Db, org_id: &str, now: i64) -> Result<Option<i64>, DbError> {
    let (due,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(due_at) FROM items WHERE org_id = $1 AND kind = 'action' AND status = 'open' AND due_at >= $2",
    )
    .bind(org_id)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(due)
}

/// What a user did to an item of theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Read,
    Archive,
    Unarchive,
}

impl UserAction {
    fn as_str(self) -> &'static str {
        match self {
            UserAction::Read => "read",
            UserAction::Archive => "archived",
            UserAction::Unarchive => "unarchived",
        }
    }
}

/// Stamps `column` ($3) on the reader's ($1) state of an item ($2), creating the state with
/// the item's facts the counts read (category, role key, due date, whether still open).
fn stamp_state(column: &str, on_conflict: &str) -> String {
    format!(
        "INSERT INTO item_states (user_id, item_id, {column}, category, audience_roles, due_at, item_open) \
         SELECT $1, i.id, $3, i.category, i.audience_roles, i.due_at, \
           CAST(CASE WHEN i.status = 'open' THEN 1 ELSE 0 END AS BIGINT) FROM items i WHERE i.id = $2 \
         ON CONFLICT (user_id, item_id) DO UPDATE SET {column} = {on_conflict}"
    )
}

/// Marks an item read, archived or unarchived for the reader. Refuses items that do not reach
/// them (as not found) and archiving a mandatory action.
pub async fn apply(
    db: &Db,
    reader: &Reader,
    item_id: &str,
    action: UserAction,
) -> Result<ItemView, ItemError> {
    let item = view(db, reader, item_id).await?.ok_or(ItemError::NotFound)?;
    let now = now_ms();
    match action {
        UserAction::Read if item.read => return Ok(item),
        UserAction::Archive if !item.can_be_archived() => return Err(ItemError::MandatoryCannotBeArchived),
        UserAction::Archive if item.archived => return Ok(item),
        UserAction::Unarchive if !item.archived => return Ok(item),
        _ => {}
    }
    let mut tx = db.begin_write().await?;
    let (sql, stamped) = match action {
        UserAction::Read => (
            stamp_state("read_at", "COALESCE(item_states.read_at, excluded.read_at)"),
            true,
        ),
        UserAction::Archive => (stamp_state("archived_at", "excluded.archived_at"), true),
        UserAction::Unarchive => (
            "UPDATE item_states SET archived_at = NULL WHERE user_id = $1 AND item_id = $2".to_string(),
            false,
        ),
    };
    let query = sqlx::query(&sql).bind(&reader.user_id).bind(item_id);
    let query = if stamped { query.bind(now) } else { query };
    query.execute(&mut *tx).await?;
    let subject = format!("{}:{item_id}", action.as_str());
    live::append(
        &mut tx,
        db,
        &reader.org_id,
        Some(&reader.user_id),
        LogKind::UserState,
        &subject,
    )
    .await?;
    tx.commit().await?;
    db.announce_change(&reader.org_id);
    view(db, reader, item_id).await?.ok_or(ItemError::NotFound)
}

/// A just-published item as every live stream of its org needs it: read once per instance
/// and shared, so a publish costs no query per connected stream.
#[derive(Debug, Clone)]
pub struct PublishedItem {
    row: PublishedRow,
    /// The users the item names directly.
    named: Vec<String>,
    /// The item's JSON as an untouched reader sees it, in each email language: serialized once
    /// for every stream of the instance instead of once per stream.
    shown: Vec<(&'static str, Box<RawValue>)>,
}

/// The item's row as a list shows it to a reader who has not touched it, and its role key.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
struct PublishedRow {
    #[sqlx(flatten)]
    view: ViewRow,
    audience_roles: String,
}

impl PublishedItem {
    /// Whether the item reaches this user, holding these roles, in its org.
    pub fn reaches(&self, user_id: &str, roles: &[String]) -> bool {
        key_reaches(&self.row.audience_roles, roles) || self.named.iter().any(|u| u == user_id)
    }

    /// The item as a reader who has not touched it yet sees it.
    pub fn view(&self, language: &str) -> ItemView {
        self.row.view.clone().into_view(language)
    }

    /// `view(language)` as JSON; shared unless the language is not an email language.
    fn view_json(&self, language: &str) -> Cow<'_, RawValue> {
        match self.shown.iter().find(|(l, _)| *l == language) {
            Some((_, json)) => Cow::Borrowed(json),
            None => Cow::Owned(to_raw(&self.view(language))),
        }
    }

    /// What the item adds to the counts of a reader it reaches.
    pub fn facts(&self, now: i64) -> ItemFacts {
        let v = &self.row.view;
        untouched_facts(&v.category, &v.status, v.due_at, now)
    }
}

/// Reads a published item for the live streams (`None` if it no longer exists).
pub async fn published_item(db: &Db, item_id: &str) -> Result<Option<PublishedItem>, DbError> {
    // The join matches no row (every state has a user): the state of a reader who has not
    // touched the item, typed as the list query's.
    let row: Option<PublishedRow> = sqlx::query_as(&format!(
        "SELECT {VIEW_COLUMNS}, i.created_at AS sort_key, i.audience_roles FROM items i \
         LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id IS NULL WHERE i.id = $1"
    ))
    .bind(item_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let named: Vec<(String,)> = sqlx::query_as("SELECT user_id FROM item_audience_users WHERE item_id = $1")
        .bind(item_id)
        .fetch_all(db.pool())
        .await?;
    let mut item = PublishedItem {
        row,
        named: named.into_iter().map(|n| n.0).collect(),
        shown: Vec::new(),
    };
    item.shown = crate::preferences::EMAIL_LANGUAGES
        .iter()
        .map(|language| (*language, to_raw(&item.view(language))))
        .collect();
    Ok(Some(item))
}

fn to_raw(view: &ItemView) -> Box<RawValue> {
    serde_json::value::to_raw_value(view).expect("an item view is plain data")
}

/// The reader's stream message for a published item, from the shared copy and the reader's
/// last counts, with no query: their new counts and the message as JSON (made from the item's
/// shared JSON). `None` when the item does not reach them or is no longer open.
pub fn published_message_json(
    item: &PublishedItem,
    reader: &Reader,
    roles: &[String],
    counts: Counts,
) -> Option<(Counts, String)> {
    /// `LiveMessage` with one `Change::ItemAdded` whose item is already JSON.
    #[derive(serde::Serialize)]
    struct Added<'a> {
        changes: [AddedChange<'a>; 1],
        counts: Counts,
    }
    #[derive(serde::Serialize)]
    struct AddedChange<'a> {
        r#type: &'static str,
        item: &'a RawValue,
    }
    if !item.reaches(&reader.user_id, roles) || item.row.view.status != Status::Open.as_str() {
        return None;
    }
    let mut tally = Tally::from(counts);
    tally.add_item(item.facts(now_ms()), 1);
    let counts = tally.counts();
    let view = item.view_json(&reader.language);
    let message = Added {
        changes: [AddedChange {
            r#type: "item_added",
            item: &view,
        }],
        counts,
    };
    Some((counts, serde_json::to_string(&message).unwrap_or_default()))
}

/// More item changes than this in one role change become a single `Resync`.
const MAX_CHANGES_PER_MESSAGE: usize = 50;

/// What a log entry means for the reader's stream, or `None` when it does not concern them.
pub async fn live_message(
    db: &Db,
    reader: &Reader,
    entry: &LogEntry,
) -> Result<Option<LiveMessage>, DbError> {
    if entry.org_id != reader.org_id || entry.user_id.as_deref().is_some_and(|u| u != reader.user_id) {
        return Ok(None);
    }
    let changes = match entry.kind {
        LogKind::Published => match view(db, reader, &entry.subject).await? {
            Some(item) if item.status == Status::Open && !item.archived => vec![Change::ItemAdded { item }],
            _ => vec![],
        },
        LogKind::StatusChanged => match view(db, reader, &entry.subject).await? {
            Some(item) if item.archived => vec![],
            Some(item) => match item.status {
                Status::Open => vec![Change::ItemChanged { item }],
                Status::Completed => vec![Change::ItemRemoved {
                    item_id: item.id,
                    reason: Removal::Completed,
                }],
                Status::Cancelled => vec![Change::ItemRemoved {
                    item_id: item.id,
                    reason: Removal::Cancelled,
                }],
            },
            None => vec![],
        },
        LogKind::UserState => {
            let (action, item_id) = entry
                .subject
                .split_once(':')
                .unwrap_or(("", entry.subject.as_str()));
            match (action, view(db, reader, item_id).await?) {
                ("archived", Some(_)) => vec![Change::ItemRemoved {
                    item_id: item_id.into(),
                    reason: Removal::Archived,
                }],
                ("unarchived", Some(item)) => vec![Change::ItemAdded { item }],
                (_, Some(item)) => vec![Change::ItemChanged { item }],
                (_, None) => vec![],
            }
        }
        LogKind::RolesChanged => role_changes(db, reader, &entry.subject).await?,
    };
    if changes.is_empty() {
        return Ok(None);
    }
    Ok(Some(LiveMessage {
        changes,
        counts: counts(db, reader).await?,
    }))
}

/// The items a role grant brought in, or a revoke took away, as changes.
async fn role_changes(db: &Db, reader: &Reader, subject: &str) -> Result<Vec<Change>, DbError> {
    let Some((direction, role)) = subject.split_once(':') else {
        return Ok(vec![]);
    };
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT i.id FROM items i JOIN item_audience_roles ar ON ar.item_id = i.id \
         WHERE i.org_id = $1 AND ar.role = $2 AND i.status = 'open' ORDER BY i.id",
    )
    .bind(&reader.org_id)
    .bind(role)
    .fetch_all(db.pool())
    .await?;
    let mut changes = Vec::new();
    for (id,) in ids {
        let visible = view(db, reader, &id).await?;
        match (direction, visible) {
            ("grant", Some(item)) if !item.archived => changes.push(Change::ItemAdded { item }),
            ("revoke", None) => changes.push(Change::ItemRemoved {
                item_id: id,
                reason: Removal::RoleRevoked,
            }),
            _ => {}
        }
        if changes.len() > MAX_CHANGES_PER_MESSAGE {
            return Ok(vec![Change::Resync]);
        }
    }
    Ok(changes)
}

/// The distinct user ids an item reaches right now (for email fan-out and tests).
pub async fn recipients(db: &Db, item_id: &str) -> Result<BTreeSet<String>, DbError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT g.user_id FROM items i JOIN item_audience_roles ar ON ar.item_id = i.id \
           JOIN role_grants g ON g.role = ar.role JOIN users u ON u.id = g.user_id AND u.org_id = i.org_id \
           WHERE i.id = $1 \
         UNION SELECT au.user_id FROM items i JOIN item_audience_users au ON au.item_id = i.id \
           JOIN users u ON u.id = au.user_id AND u.org_id = i.org_id WHERE i.id = $1",
    )
    .bind(item_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Stores an item directly (demo seeding and tests), bypassing the producer API.
pub async fn insert_direct(db: &Db, item: &ValidItem) -> Result<String, ItemError> {
    Ok(publish(db, item, None, "demo").await?.0.id)
}
