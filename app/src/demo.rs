//! The demo of spec §7: Contoso and Fabrikam, their users, items of every category.

use crate::api_keys;
use crate::auth::password;
use crate::db::{Db, DbError, now_ms};
use crate::items::payload::ValidItem;
use crate::items::{self, Category, ItemError, LocalizedText, Reader, UserAction};
use crate::orgs::{self, NewUser, OrgError};

pub const DEMO_PASSWORD: &str = "actioncenter";
const DEMO_SETTING: &str = "demo";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the database is not empty; the demo is seeded only into an empty database")]
    NotEmpty,
    #[error(transparent)]
    Org(#[from] OrgError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Item(#[from] ItemError),
}

/// Whether this database was seeded with the demo.
pub async fn is_demo_database(db: &Db) -> Result<bool, DbError> {
    Ok(db.setting(DEMO_SETTING).await?.as_deref() == Some("seeded"))
}

/// Category, workspace, audience roles, title, due date, archived by the Contoso admin.
type DemoItem = (
    Category,
    &'static str,
    &'static [&'static str],
    LocalizedText,
    Option<i64>,
    bool,
);

fn text(en: &str, nl: &str) -> LocalizedText {
    [
        ("en".to_string(), en.to_string()),
        ("nl".to_string(), nl.to_string()),
    ]
    .into()
}

/// Seeds the demo into an empty database.
pub async fn seed(db: &Db) -> Result<(), DemoError> {
    if !db.is_empty().await? {
        return Err(DemoError::NotEmpty);
    }
    // One hash for all demo users: they share a password, and argon2 is slow on purpose.
    let hash = password::hash(DEMO_PASSWORD);
    orgs::create_org(db, "contoso", "Contoso").await?;
    orgs::create_org(db, "fabrikam", "Fabrikam").await?;

    let people: [(&str, &str, &str, &[&str], bool); 5] = [
        (
            "contoso",
            "admin@contoso.test",
            "Ada Admin",
            &["account_admin"],
            true,
        ),
        (
            "contoso",
            "dev@contoso.test",
            "Dev Developer",
            &["marketplace_developer"],
            true,
        ),
        (
            "contoso",
            "finance@contoso.test",
            "Fin Finance",
            &["incentives_admin", "billing_admin"],
            true,
        ),
        ("contoso", "new@contoso.test", "Nia Newcomer", &[], false),
        (
            "fabrikam",
            "admin@fabrikam.test",
            "Fay Fabrikam",
            &["account_admin"],
            true,
        ),
    ];
    let mut users = Vec::new();
    for (org_id, email, name, roles, setup_completed) in people {
        let org_id = orgs::OrgId::from(org_id);
        let user = orgs::create_user(
            db,
            NewUser {
                org_id: &org_id,
                email,
                display_name: name,
                password_hash: Some(&hash),
                setup_completed,
            },
        )
        .await?;
        for role in roles {
            orgs::grant_role(db, &user, &orgs::Role::from(*role), "demo").await?;
        }
        users.push(user);
    }

    let now = now_ms();
    let contoso_items: Vec<DemoItem> = vec![
        (
            Category::Mandatory,
            "account_settings",
            &["account_admin"],
            text(
                "Complete your account verification",
                "Voltooi de verificatie van uw account",
            ),
            Some(now + 10 * DAY_MS),
            false,
        ),
        (
            Category::Mandatory,
            "billing",
            &["account_admin", "billing_admin"],
            text(
                "Confirm your payout bank details",
                "Bevestig uw bankgegevens voor uitbetalingen",
            ),
            Some(now - 2 * DAY_MS),
            false,
        ),
        (
            Category::Recommended,
            "incentives",
            &["account_admin", "incentives_admin"],
            text("Update your tax profile", "Werk uw belastingprofiel bij"),
            Some(now + 5 * DAY_MS),
            false,
        ),
        (
            Category::Recommended,
            "marketplace_offers",
            &["account_admin", "marketplace_developer"],
            text(
                "Add screenshots to your offer listing",
                "Voeg schermafbeeldingen toe aan uw aanbieding",
            ),
            Some(now + 30 * DAY_MS),
            false,
        ),
        (
            Category::Recommended,
            "membership",
            &["account_admin"],
            text("Renew your partner membership", "Verleng uw partnerlidmaatschap"),
            Some(now + 60 * DAY_MS),
            true,
        ),
        (
            Category::Transactional,
            "marketplace_offers",
            &["account_admin", "marketplace_developer"],
            text(
                "Your offer was published to the marketplace",
                "Uw aanbieding is gepubliceerd op de marketplace",
            ),
            None,
            false,
        ),
        (
            Category::Transactional,
            "referrals",
            &["account_admin"],
            text(
                "A customer accepted your referral",
                "Een klant heeft uw doorverwijzing geaccepteerd",
            ),
            None,
            false,
        ),
        (
            Category::Promotional,
            "incentives",
            &["account_admin", "incentives_admin"],
            text(
                "New incentive programme for cloud partners",
                "Nieuw incentiveprogramma voor cloudpartners",
            ),
            None,
            false,
        ),
        (
            Category::Promotional,
            "customers",
            &["account_admin"],
            text(
                "Join the partner launch event",
                "Neem deel aan het partnerlanceringsevenement",
            ),
            None,
            true,
        ),
    ];
    let admin = Reader {
        user_id: users[0].id.clone(),
        org_id: "contoso".into(),
        language: "en".into(),
    };
    let body = text(
        "Open the linked page in the partner portal for the details.",
        "Open de gekoppelde pagina in het partnerportaal voor de details.",
    );
    for (category, workspace, roles, title, due_at, archived_by_admin) in contoso_items {
        let item = ValidItem {
            org_id: "contoso".into(),
            category,
            workspace: workspace.into(),
            roles: roles.iter().map(|r| orgs::Role::from(*r)).collect(),
            user_ids: Default::default(),
            title,
            body: body.clone(),
            link: Some("/".into()),
            due_at,
            idempotency_key: None,
            expires_at: None,
        };
        let id = items::insert_direct(db, &item).await?;
        if archived_by_admin {
            items::apply(db, &admin, &id, UserAction::Archive).await?;
        }
    }
    let fabrikam = ValidItem {
        org_id: "fabrikam".into(),
        category: Category::Mandatory,
        workspace: "account_settings".into(),
        roles: [orgs::Role::from("account_admin")].into(),
        user_ids: Default::default(),
        title: text(
            "Complete your account verification",
            "Voltooi de verificatie van uw account",
        ),
        body: text("Fabrikam only.", "Alleen Fabrikam."),
        link: Some("/".into()),
        due_at: Some(now + 3 * DAY_MS),
        idempotency_key: None,
        expires_at: None,
    };
    items::insert_direct(db, &fabrikam).await?;
    // The overdue payout details are escalated to the account admins as the server would.
    items::lifecycle::run_once(db, now_ms()).await?;

    api_keys::create_demo_key(db).await?;
    db.set_setting(DEMO_SETTING, "seeded").await?;
    Ok(())
}
