//! Publishing (spec §6): items from producers, written in batches. Delivery is evaluated at
//! read time (fan-out on read): publishing writes no per-recipient rows; it bumps the org's
//! open-item total for the item's role key, which the counts read (see `tally`).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Any;

use super::audience::audience_key;
use super::payload::{ApiItem, Audience, Catalog, FieldError, ValidItem, format_time};
use super::{Category, ItemError, Kind, Status, get};
use crate::db::insert::{Insert, MAX_VALUES, insert_all};
use crate::db::{Backend, Db, DbError, now_ms};
use crate::live::{self, LogKind};

/// The roles and workspaces items may name.
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
            .and_then(|key| used_keys.get(&(item.org_id.to_string(), key.clone())));
        let stranger = item
            .user_ids
            .iter()
            .enumerate()
            .find(|(_, u)| org_of_user.get(u.as_str()).map(String::as_str) != Some(item.org_id.as_str()));
        let outcome = if let Some((id, hash)) = repeated {
            if *hash == fingerprint {
                Outcome::Existing(id.clone())
            } else {
                Outcome::Refused(ItemError::IdempotencyConflict)
            }
        } else if !known_orgs.contains(item.org_id.as_str()) {
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
                    (item.org_id.to_string(), key.clone()),
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
            .flat_map(|p| p.item.user_ids.iter().map(|u| u.as_str()))
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
         next_reminder_at, expires_at, search_words)",
        19,
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
            item.expires_at.into(),
            super::search::stored_words(&item.title, &item.body).into(),
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
    let mut user_ids: Vec<String> = item.user_ids.iter().map(ToString::to_string).collect();
    user_ids.sort();
    ApiItem {
        id,
        kind: item.kind(),
        category: item.category,
        org_id: item.org_id.to_string(),
        workspace: item.workspace.to_string(),
        audience: Audience {
            roles: item.roles.iter().map(ToString::to_string).collect(),
            user_ids,
        },
        title: item.title.clone(),
        body: item.body.clone(),
        link: item.link.clone(),
        due_at: item.due_at.map(format_time),
        status: Status::Open,
        idempotency_key: item.idempotency_key.clone(),
        expires_at: item.expires_at.map(format_time),
        created_at: format_time(now),
        updated_at: format_time(now),
    }
}

/// Moves the org's open-item total of a role key and category by `delta` (the row stays at 0).
pub(super) async fn count_open(
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
         SELECT org_id, audience_roles, category, SUM(CASE WHEN status = 'open' AND expired_at IS NULL THEN 1 ELSE 0 END) \
         FROM items GROUP BY org_id, audience_roles, category",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Stores an item directly (demo seeding and tests), bypassing the producer API.
pub async fn insert_direct(db: &Db, item: &ValidItem) -> Result<String, ItemError> {
    Ok(publish(db, item, None, "demo").await?.0.id)
}
