//! Import of preferences from a legacy export (spec §3 "Migrated preferences"): CSV with a
//! header row, or a JSON array of objects, with these fields (all but `email` optional; an
//! empty or missing field leaves that preference as it is):
//!
//! `email` (the sign-in email of an existing user), `job_function`, `email_language`
//! (`en`, `nl`, `de`, `fr`, or a tag whose language is one of them, like `nl-BE`),
//! `notification_email`, `notification_email_verified` (the legacy system verified it),
//! `transactional_email`, `promotional_email` (true/false, yes/no, 1/0) and
//! `workspaces_off` (workspace names separated by `;`, or a JSON array).
//!
//! Each row is validated on its own; a bad row is reported with its line and skipped, the
//! rest are applied. Applying the same file again changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::rules::EmailChoices;
use super::{EMAIL_LANGUAGES, MAX_JOB_FUNCTION_CHARS, verification};
use crate::db::{Db, DbError, now_ms};
use crate::email::Links;
use crate::items::Workspace;

/// One row of the export, as read, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LegacyRow {
    pub email: Option<String>,
    pub job_function: Option<String>,
    pub email_language: Option<String>,
    pub notification_email: Option<String>,
    pub notification_email_verified: Option<String>,
    pub transactional_email: Option<String>,
    pub promotional_email: Option<String>,
    pub workspaces_off: Option<String>,
}

/// A row that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRow {
    pub email: String,
    pub job_function: Option<String>,
    pub email_language: Option<String>,
    pub notification_email: Option<String>,
    pub notification_email_verified: bool,
    pub transactional: Option<bool>,
    pub promotional: Option<bool>,
    pub workspaces_off: Option<BTreeSet<Workspace>>,
}

/// A rejected row: its line in the file and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub applied: usize,
    pub unchanged: usize,
    pub rejected: Vec<Rejected>,
}

/// The rows read from a file, each with its line, and the rows that could not be read.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<(usize, LegacyRow)>,
    pub rejected: Vec<Rejected>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// By the file name's extension, else by the first character of the content.
    pub fn detect(file_name: &str, content: &str) -> Format {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Format::Json
        } else if lower.ends_with(".csv") {
            Format::Csv
        } else if content.trim_start().starts_with('[') {
            Format::Json
        } else {
            Format::Csv
        }
    }
}

/// Reads the rows of an export; a file that cannot be read as a whole is an error, a row that
/// cannot be read is rejected with its line.
pub fn parse(content: &str, format: Format) -> Result<Parsed, String> {
    match format {
        Format::Csv => parse_csv(content),
        Format::Json => parse_json(content),
    }
}

fn parse_csv(content: &str) -> Result<Parsed, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(content.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("cannot read the CSV header row: {e}"))?
        .clone();
    if !headers.iter().any(|h| h == "email") {
        return Err("the CSV header row has no `email` column".into());
    }
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = line_at(content, record.position());
                let fields: BTreeMap<&str, &str> = headers.iter().zip(record.iter()).collect();
                let get = |name: &str| fields.get(name).filter(|v| !v.is_empty()).map(|v| v.to_string());
                rows.push((
                    line,
                    LegacyRow {
                        email: get("email"),
                        job_function: get("job_function"),
                        email_language: get("email_language"),
                        notification_email: get("notification_email"),
                        notification_email_verified: get("notification_email_verified"),
                        transactional_email: get("transactional_email"),
                        promotional_email: get("promotional_email"),
                        workspaces_off: get("workspaces_off"),
                    },
                ));
            }
            Err(e) => rejected.push(Rejected {
                line: line_at(content, e.position()),
                reason: format!("cannot read this row: {e}"),
            }),
        }
    }
    Ok(Parsed { rows, rejected })
}

/// The line a CSV record starts on, counted from its byte offset (the reader's own line count
/// leaves out blank lines).
fn line_at(content: &str, position: Option<&csv::Position>) -> usize {
    let bytes = content.as_bytes();
    let mut byte = position
        .map(|p| p.byte() as usize)
        .unwrap_or_default()
        .min(bytes.len());
    // A record's position can be the blank lines before it.
    while byte < bytes.len() && matches!(bytes[byte], b'\n' | b'\r') {
        byte += 1;
    }
    bytes[..byte].iter().filter(|b| **b == b'\n').count() + 1
}

fn parse_json(content: &str) -> Result<Parsed, String> {
    let entries: Vec<&RawValue> = serde_json::from_str(content)
        .map_err(|e| format!("the JSON file is not an array of objects: {e}"))?;
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for raw in entries {
        // The entry's text is a slice of the file, so its offset gives its line.
        let offset = raw.get().as_ptr() as usize - content.as_ptr() as usize;
        let line = content[..offset].matches('\n').count() + 1;
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(raw.get()) {
            Ok(object) => {
                let text = |name: &str| -> Result<Option<String>, String> {
                    match object.get(name) {
                        None | Some(serde_json::Value::Null) => Ok(None),
                        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                        Some(serde_json::Value::Bool(b)) => Ok(Some(b.to_string())),
                        Some(serde_json::Value::Array(items)) if name == "workspaces_off" => items
                            .iter()
                            .map(|v| {
                                v.as_str()
                                    .map(str::to_string)
                                    .ok_or("workspaces_off holds a non-string")
                            })
                            .collect::<Result<Vec<_>, _>>()
                            .map(|v| Some(v.join(";")))
                            .map_err(String::from),
                        Some(other) => Err(format!("{name} must be text, not {other}")),
                    }
                };
                let row = (|| -> Result<LegacyRow, String> {
                    Ok(LegacyRow {
                        email: text("email")?.filter(|s| !s.is_empty()),
                        job_function: text("job_function")?.filter(|s| !s.is_empty()),
                        email_language: text("email_language")?.filter(|s| !s.is_empty()),
                        notification_email: text("notification_email")?.filter(|s| !s.is_empty()),
                        notification_email_verified: text("notification_email_verified")?,
                        transactional_email: text("transactional_email")?,
                        promotional_email: text("promotional_email")?,
                        workspaces_off: text("workspaces_off")?.filter(|s| !s.is_empty()),
                    })
                })();
                match row {
                    Ok(row) => rows.push((line, row)),
                    Err(reason) => rejected.push(Rejected { line, reason }),
                }
            }
            Err(_) => rejected.push(Rejected {
                line,
                reason: "an entry must be an object".into(),
            }),
        }
    }
    Ok(Parsed { rows, rejected })
}

fn flag(name: &str, value: &Option<String>) -> Result<Option<bool>, String> {
    match value.as_deref().map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if matches!(v.as_str(), "true" | "yes" | "1" | "on") => Ok(Some(true)),
        Some(v) if matches!(v.as_str(), "false" | "no" | "0" | "off") => Ok(Some(false)),
        Some(v) => Err(format!("{name} must be true or false, not {v:?}")),
    }
}

/// Validates a row against the rules and the workspace catalog (not yet against users).
pub fn validate(row: &LegacyRow, workspaces: &BTreeSet<Workspace>) -> Result<ValidRow, String> {
    let email = row.email.as_deref().ok_or("email is missing")?;
    let email = crate::orgs::normalize_email(email).map_err(|e| e.to_string())?;
    let job_function = match &row.job_function {
        Some(j) => {
            let j = j.trim();
            if j.chars().count() > MAX_JOB_FUNCTION_CHARS || j.chars().any(char::is_control) {
                return Err(format!(
                    "job_function is at most {MAX_JOB_FUNCTION_CHARS} characters of text"
                ));
            }
            Some(j.to_string())
        }
        None => None,
    };
    let email_language = match &row.email_language {
        Some(tag) => {
            let primary = tag
                .trim()
                .split(['-', '_'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !EMAIL_LANGUAGES.contains(&primary.as_str()) {
                return Err(format!(
                    "email_language {tag:?} is not one of {}",
                    EMAIL_LANGUAGES.join(", ")
                ));
            }
            Some(primary)
        }
        None => None,
    };
    let notification_email = match &row.notification_email {
        Some(a) => Some(
            crate::orgs::normalize_email(a)
                .map_err(|_| format!("notification_email {a:?} is not an email address"))?,
        ),
        None => None,
    };
    let workspaces_off = match &row.workspaces_off {
        Some(list) => {
            let mut set = BTreeSet::new();
            for name in list
                .split([';', '|', ','])
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                if !workspaces.contains(name) {
                    return Err(format!("unknown workspace {name:?} in workspaces_off"));
                }
                set.insert(Workspace::from(name));
            }
            Some(set)
        }
        None => None,
    };
    Ok(ValidRow {
        email,
        job_function,
        email_language,
        notification_email,
        notification_email_verified: flag("notification_email_verified", &row.notification_email_verified)?
            .unwrap_or(false),
        transactional: flag("transactional_email", &row.transactional_email)?,
        promotional: flag("promotional_email", &row.promotional_email)?,
        workspaces_off,
    })
}

/// Imports an export: validates every row, applies the valid ones, reports the rest.
/// An unverified new notification address gets a verification email, as in the UI.
pub async fn import(
    db: &Db,
    links: &Links,
    content: &str,
    format: Format,
    actor: &str,
) -> Result<Report, ImportError> {
    let Parsed { rows, mut rejected } = parse(content, format).map_err(ImportError::File)?;
    let workspaces: BTreeSet<Workspace> = crate::orgs::workspace_catalog(db).await?.into_iter().collect();
    let mut report = Report::default();
    let mut seen = BTreeMap::new();
    for (line, row) in rows {
        let valid = match validate(&row, &workspaces) {
            Ok(valid) => valid,
            Err(reason) => {
                rejected.push(Rejected { line, reason });
                continue;
            }
        };
        if let Some(first) = seen.insert(valid.email.clone(), line) {
            rejected.push(Rejected {
                line,
                reason: format!("{} already appears on line {first}", valid.email),
            });
            continue;
        }
        match apply(db, links, &valid, actor).await {
            Ok(true) => report.applied += 1,
            Ok(false) => report.unchanged += 1,
            Err(ApplyError::Rejected(reason)) => rejected.push(Rejected { line, reason }),
            Err(ApplyError::Failed(e)) => return Err(e),
        }
    }
    rejected.sort_by_key(|r| r.line);
    report.rejected = rejected;
    Ok(report)
}

enum ApplyError {
    Rejected(String),
    Failed(ImportError),
}

impl<E: Into<ImportError>> From<E> for ApplyError {
    fn from(err: E) -> Self {
        ApplyError::Failed(err.into())
    }
}

/// Applies one row in its own transaction; false when it changes nothing.
async fn apply(db: &Db, links: &Links, row: &ValidRow, actor: &str) -> Result<bool, ApplyError> {
    let Some(user) = crate::orgs::find_user_by_email(db, &row.email).await? else {
        return Err(ApplyError::Rejected(format!("no user with email {}", row.email)));
    };
    type Row = (String, String, Option<String>, Option<i64>);
    let now = now_ms();
    let mut tx = db.begin_write().await.map_err(DbError::from)?;
    let (job, language, chosen, verified_at): Row = sqlx::query_as(
        "SELECT job_function, email_language, notification_email, notification_email_verified_at \
         FROM preferences WHERE user_id = $1",
    )
    .bind(&user.id)
    .fetch_one(&mut *tx)
    .await
    .map_err(DbError::from)?;
    let mut changes = Vec::new();
    if let Some(new_job) = row.job_function.as_ref().filter(|j| **j != job) {
        sqlx::query("UPDATE preferences SET job_function = $1, updated_at = $2 WHERE user_id = $3")
            .bind(new_job)
            .bind(now)
            .bind(&user.id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
        changes.push(serde_json::json!({ "job_function": { "from": job, "to": new_job } }));
    }
    if let Some(new_language) = row.email_language.as_ref().filter(|l| **l != language) {
        sqlx::query("UPDATE preferences SET email_language = $1, updated_at = $2 WHERE user_id = $3")
            .bind(new_language)
            .bind(now)
            .bind(&user.id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
        changes.push(serde_json::json!({ "email_language": { "from": language, "to": new_language } }));
    }
    if let Some(address) = &row.notification_email {
        let current = chosen.clone().unwrap_or_else(|| user.email.clone());
        let to_sign_in = *address == user.email;
        let verify_now = row.notification_email_verified && !to_sign_in && verified_at.is_none();
        if *address != current || verify_now {
            let stored = (!to_sign_in).then_some(address.as_str());
            let verified = (row.notification_email_verified && !to_sign_in).then_some(now);
            let keep_verified = *address == current && verified_at.is_some();
            sqlx::query(
                "UPDATE preferences SET notification_email = $1, notification_email_verified_at = $2, updated_at = $3 \
                 WHERE user_id = $4",
            )
            .bind(stored)
            .bind(if keep_verified { verified_at } else { verified })
            .bind(now)
            .bind(&user.id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
            if stored.is_some() && verified.is_none() && !keep_verified {
                verification::start(&mut tx, links, &user.id, address, now).await?;
            }
            changes.push(serde_json::json!({ "notification_email": { "from": current, "to": address, "verified": verified.is_some() } }));
        }
    }
    let before: EmailChoices = super::choices(&mut tx, &user.id).await?;
    let after = EmailChoices {
        transactional: row.transactional.unwrap_or(before.transactional),
        promotional: row.promotional.unwrap_or(before.promotional),
        workspaces_off: row
            .workspaces_off
            .clone()
            .unwrap_or_else(|| before.workspaces_off.clone()),
    };
    changes.extend(super::store_choices(&mut tx, &user.id, &before, &after, now).await?);
    if changes.is_empty() {
        return Ok(false);
    }
    crate::audit::record_in(
        &mut tx,
        Some(&user.org_id),
        actor,
        "preferences.import",
        Some(&user.id),
        &serde_json::json!({ "changes": changes }),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(true)
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Verification(#[from] verification::VerificationError),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspaces() -> BTreeSet<Workspace> {
        ["billing", "referrals"]
            .into_iter()
            .map(Workspace::from)
            .collect()
    }

    #[test]
    fn csv_rows_keep_their_line_numbers() {
        let csv = "email,job_function,email_language,promotional_email,workspaces_off\n\
                   a@x.test,Sales,nl-BE,no,billing;referrals\n\
                   \n\
                   b@x.test,,en,maybe,\n\
                   c@x.test,\"Two\nlines\",fr,,\n\
                   d@x.test,too,many,fields,here,extra\n";
        let Parsed { rows, rejected } = parse(csv, Format::Csv).unwrap();
        assert_eq!(rows.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 4, 5]);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, 7);
        let a = validate(&rows[0].1, &workspaces()).unwrap();
        assert_eq!(a.email_language.as_deref(), Some("nl"));
        assert_eq!(a.promotional, Some(false));
        assert_eq!(a.transactional, None);
        assert_eq!(a.workspaces_off.unwrap().len(), 2);
        assert!(
            validate(&rows[1].1, &workspaces())
                .unwrap_err()
                .contains("promotional_email")
        );
        // A job function with a line break is not a job function.
        assert!(
            validate(&rows[2].1, &workspaces())
                .unwrap_err()
                .contains("job_function")
        );
    }

    #[test]
    fn json_rows_report_the_line_they_start_on() {
        let json = "[\n  {\"email\": \"a@x.test\", \"workspaces_off\": [\"billing\"], \"transactional_email\": false},\n  \
                    42,\n  {\"email\": \"b@x.test\",\n   \"email_language\": \"tlh\"},\n  {\"email\": {\"no\": 1}}\n]";
        let Parsed { rows, rejected } = parse(json, Format::Json).unwrap();
        assert_eq!(rows.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(rejected.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 6]);
        let a = validate(&rows[0].1, &workspaces()).unwrap();
        assert_eq!(a.transactional, Some(false));
        assert_eq!(a.workspaces_off, Some([Workspace::from("billing")].into()));
        assert!(
            validate(&rows[1].1, &workspaces())
                .unwrap_err()
                .contains("email_language")
        );
    }

    #[test]
    fn rows_are_validated_field_by_field() {
        let row = |f: &dyn Fn(&mut LegacyRow)| {
            let mut r = LegacyRow {
                email: Some("a@x.test".into()),
                ..Default::default()
            };
            f(&mut r);
            validate(&r, &workspaces())
        };
        assert!(row(&|_| {}).is_ok());
        assert!(row(&|r| r.email = None).unwrap_err().contains("email is missing"));
        assert!(row(&|r| r.email = Some("nope".into())).is_err());
        assert!(
            row(&|r| r.notification_email = Some("x@".into()))
                .unwrap_err()
                .contains("notification_email")
        );
        assert!(
            row(&|r| r.workspaces_off = Some("moon".into()))
                .unwrap_err()
                .contains("moon")
        );
        assert!(row(&|r| r.job_function = Some("x".repeat(101))).is_err());
        assert!(row(&|r| r.notification_email_verified = Some("perhaps".into())).is_err());
    }

    #[test]
    fn unreadable_files_are_refused_whole() {
        assert!(parse("{\"email\": 1}", Format::Json).is_err());
        assert!(
            parse("name,role\nx,y\n", Format::Csv)
                .unwrap_err()
                .contains("email")
        );
        assert_eq!(Format::detect("x.JSON", ""), Format::Json);
        assert_eq!(Format::detect("export", " [{}]"), Format::Json);
        assert_eq!(Format::detect("export.txt", "email\n"), Format::Csv);
    }
}
