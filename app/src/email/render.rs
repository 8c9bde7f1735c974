//! Email text and the small pages behind email links, in the recipient's language.
//!
//! Strings live in `locales/{en,nl,de,fr}.json`; a string missing in a language falls back to
//! English, and item text a producer did not localise falls back the same way
//! (`items::localize`). Templates are minijinja, with HTML auto-escaped: producer text is
//! always text.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use minijinja::{Environment, context};
use serde::Serialize;

use super::EmailError;
use super::links::{Links, UnsubscribeTarget};
use crate::items::{Category, LocalizedText, localize};

const LOCALES: [(&str, &str); 4] = [
    ("en", include_str!("locales/en.json")),
    ("nl", include_str!("locales/nl.json")),
    ("de", include_str!("locales/de.json")),
    ("fr", include_str!("locales/fr.json")),
];

/// Every language's strings, each completed with English where it has no string of its own.
static STRINGS: LazyLock<BTreeMap<&'static str, BTreeMap<String, String>>> = LazyLock::new(|| {
    let parse = |json: &str| -> BTreeMap<String, String> {
        serde_json::from_str(json).expect("email locale files are valid JSON objects of strings")
    };
    let english = parse(LOCALES[0].1);
    LOCALES
        .iter()
        .map(|(lang, json)| {
            let mut strings = english.clone();
            strings.extend(parse(json));
            (*lang, strings)
        })
        .collect()
});

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("layout.html", include_str!("templates/layout.html")),
        ("item.html", include_str!("templates/item.html")),
        ("item.txt", include_str!("templates/item.txt")),
        ("verify.html", include_str!("templates/verify.html")),
        ("verify.txt", include_str!("templates/verify.txt")),
        ("digest.html", include_str!("templates/digest.html")),
        ("digest.txt", include_str!("templates/digest.txt")),
        ("page.html", include_str!("templates/page.html")),
    ] {
        env.add_template(name, source).expect("email templates parse");
    }
    env
});

/// The strings of one language (the supported language nearest to `language`, else English).
#[derive(Debug, Clone, Copy)]
pub struct Strings {
    lang: &'static str,
    map: &'static BTreeMap<String, String>,
}

impl Strings {
    pub fn for_language(language: &str) -> Strings {
        let primary = language
            .split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let (lang, map) = STRINGS
            .get_key_value(primary.as_str())
            .or_else(|| STRINGS.get_key_value("en"))
            .expect("English strings exist");
        Strings { lang, map }
    }

    pub fn lang(&self) -> &'static str {
        self.lang
    }

    /// The string `key` with `{name}` placeholders filled in.
    pub fn get(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.map.get(key).cloned().unwrap_or_else(|| key.to_string());
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    pub fn workspace(&self, workspace: &str) -> String {
        self.map
            .get(&format!("ws_{workspace}"))
            .cloned()
            .unwrap_or_else(|| workspace.replace('_', " "))
    }
}

/// A rendered email, ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Extra headers (the RFC 8058 unsubscribe pair on optional email).
    pub headers: BTreeMap<String, String>,
}

/// What an item email needs to know about the item.
#[derive(Debug, Clone)]
pub struct ItemForEmail {
    pub id: crate::items::ItemId,
    pub category: Category,
    pub workspace: crate::items::Workspace,
    pub title: LocalizedText,
    pub body: LocalizedText,
    pub link: Option<String>,
    pub due_at: Option<i64>,
}

/// What an email needs to know about its recipient.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub user_id: crate::orgs::UserId,
    pub display_name: String,
    pub language: String,
}

/// Which of the item emails this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemEmail {
    New,
    Reminder7d,
    Reminder1d,
    Overdue,
}

#[derive(Serialize)]
struct UnsubscribeLink {
    label: String,
    url: String,
}

/// Renders the email about an item for one recipient.
pub fn item_email(
    links: &Links,
    item: &ItemForEmail,
    recipient: &Recipient,
    which: ItemEmail,
) -> Result<RenderedEmail, EmailError> {
    let s = Strings::for_language(&recipient.language);
    let title = localize(&item.title, &recipient.language);
    let body = localize(&item.body, &recipient.language);
    let workspace = s.workspace(&item.workspace);
    let category = item.category.as_str();
    let (subject_key, intro_key) = match which {
        ItemEmail::New => (format!("subject_{category}"), format!("intro_{category}")),
        ItemEmail::Reminder7d => ("subject_reminder_7d".into(), "intro_reminder_7d".into()),
        ItemEmail::Reminder1d => ("subject_reminder_1d".into(), "intro_reminder_1d".into()),
        ItemEmail::Overdue => ("subject_overdue".into(), "intro_overdue".into()),
    };
    let subject = one_line(&s.get(&subject_key, &[("title", title)]));
    let optional = matches!(item.category, Category::Transactional | Category::Promotional);
    let category_name = s.get(&format!("category_{category}"), &[]);
    let mut unsubscribe = Vec::new();
    let mut headers = BTreeMap::new();
    if optional {
        let by_category = UnsubscribeTarget::Category(category.to_string());
        let by_workspace = UnsubscribeTarget::Workspace(item.workspace.clone());
        let category_url = links.unsubscribe(&recipient.user_id, &by_category);
        // RFC 8058: the one-click address turns off the category this email belongs to.
        headers.insert("List-Unsubscribe".to_string(), format!("<{category_url}>"));
        headers.insert(
            "List-Unsubscribe-Post".to_string(),
            "List-Unsubscribe=One-Click".to_string(),
        );
        unsubscribe.push(UnsubscribeLink {
            label: s.get("unsubscribe_category", &[("category", &category_name)]),
            url: category_url,
        });
        unsubscribe.push(UnsubscribeLink {
            label: s.get("unsubscribe_workspace", &[("workspace", &workspace)]),
            url: links.unsubscribe(&recipient.user_id, &by_workspace),
        });
    }
    let why = if optional {
        s.get("why_optional", &[("category", &category_name)])
    } else {
        s.get("why_action", &[])
    };
    let strings = context! {
        greeting => s.get("greeting", &[("name", &recipient.display_name)]),
        intro => s.get(&intro_key, &[]),
        due => s.get("due", &[]),
        workspace => s.get("workspace", &[]),
        open_item => s.get("open_item", &[]),
        open_link => s.get("open_link", &[]),
        why => why,
        manage => s.get("manage", &[]),
    };
    let ctx = context! {
        lang => s.lang(),
        subject => &subject,
        s => strings,
        title => title,
        body => body,
        due => item.due_at.map(format_due),
        workspace => workspace,
        // Always the signed deep link: it marks the item read and goes on to the item's own
        // link, or to the Action Center when it has none.
        link => links.open_item(&recipient.user_id, &item.id),
        action_center => links.action_center(),
        preferences => links.preferences(),
        unsubscribe => unsubscribe,
    };
    Ok(RenderedEmail {
        subject,
        text: render("item.txt", &ctx)?,
        html: render("item.html", &ctx)?,
        headers,
    })
}

/// One notification in a digest: its title already in the reader's language.
#[derive(Debug, Clone)]
pub struct DigestLine {
    pub id: crate::items::ItemId,
    pub title: String,
    pub category: Category,
}

#[derive(Serialize)]
struct DigestEntry {
    title: String,
    category: String,
    link: String,
}

/// Renders a daily or weekly digest: each notification with its signed deep link (which opens
/// it and marks it read), and how many more wait in the Action Center.
pub fn digest_email(
    links: &Links,
    recipient: &Recipient,
    cadence: crate::preferences::Cadence,
    lines: &[DigestLine],
    more: usize,
) -> Result<RenderedEmail, EmailError> {
    let s = Strings::for_language(&recipient.language);
    let which = match cadence {
        crate::preferences::Cadence::Weekly => "weekly",
        _ => "daily",
    };
    let count = (lines.len() + more).to_string();
    let subject = one_line(&s.get(&format!("digest_subject_{which}"), &[("count", &count)]));
    let entries: Vec<DigestEntry> = lines
        .iter()
        .map(|line| DigestEntry {
            title: one_line(&line.title),
            category: s.get(&format!("category_{}", line.category.as_str()), &[]),
            link: links.open_item(&recipient.user_id, &line.id),
        })
        .collect();
    let ctx = context! {
        lang => s.lang(),
        subject => &subject,
        s => context! {
            greeting => s.get("greeting", &[("name", &recipient.display_name)]),
            intro => s.get(&format!("digest_intro_{which}"), &[]),
            more => (more > 0).then(|| s.get("digest_more", &[("count", &more.to_string())])),
            open_item => s.get("open_item", &[]),
            why => s.get("digest_why", &[]),
            manage => s.get("manage", &[]),
        },
        entries => entries,
        action_center => links.action_center(),
        preferences => links.preferences(),
    };
    Ok(RenderedEmail {
        subject,
        text: render("digest.txt", &ctx)?,
        html: render("digest.html", &ctx)?,
        headers: BTreeMap::new(),
    })
}

/// Renders the email that verifies a changed notification address.
pub fn verification_email(
    links: &Links,
    recipient: &Recipient,
    address: &str,
    token: &str,
) -> Result<RenderedEmail, EmailError> {
    let s = Strings::for_language(&recipient.language);
    let subject = s.get("verify_subject", &[]);
    let ctx = context! {
        lang => s.lang(),
        subject => &subject,
        s => context! {
            greeting => s.get("greeting", &[("name", &recipient.display_name)]),
            verify_intro => s.get("verify_intro", &[("email", address)]),
            verify_button => s.get("verify_button", &[]),
            verify_ignore => s.get("verify_ignore", &[]),
        },
        link => links.verify(token),
    };
    Ok(RenderedEmail {
        subject,
        text: render("verify.txt", &ctx)?,
        html: render("verify.html", &ctx)?,
        headers: BTreeMap::new(),
    })
}

/// Renders the invitation to an organisation, with the link to choose a password.
pub fn invitation_email(
    links: &Links,
    recipient: &Recipient,
    inviter: &str,
    org_name: &str,
    token: &str,
) -> Result<RenderedEmail, EmailError> {
    let s = Strings::for_language(&recipient.language);
    let subject = s.get("invite_subject", &[("org", org_name)]);
    let ctx = context! {
        lang => s.lang(),
        subject => &subject,
        s => context! {
            greeting => s.get("greeting", &[("name", &recipient.display_name)]),
            verify_intro => s.get("invite_intro", &[("inviter", inviter), ("org", org_name)]),
            verify_button => s.get("invite_button", &[]),
            verify_ignore => s.get("invite_ignore", &[]),
        },
        link => links.set_password(token),
    };
    // The same layout as the verification email: a greeting, a sentence, one link.
    Ok(RenderedEmail {
        subject,
        text: render("verify.txt", &ctx)?,
        html: render("verify.html", &ctx)?,
        headers: BTreeMap::new(),
    })
}

/// A small page behind an email link: a message, optionally with a confirming form.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub language: String,
    pub title: String,
    pub message: String,
    pub failed: bool,
    /// The form's target and hidden fields, when the page asks to confirm.
    pub form: Option<(String, Vec<(String, String)>)>,
    /// A form to choose a password: its target and the labels of its two fields.
    pub password_form: Option<(String, String, String)>,
    pub button: String,
    /// Where the page's closing link goes.
    pub back: Back,
}

/// The closing link of a page behind an email link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Back {
    /// My preferences, where what email links change is set.
    #[default]
    Preferences,
    /// The Action Center, for pages about an item.
    ActionCenter,
}

pub fn page(page: &Page) -> String {
    let s = Strings::for_language(&page.language);
    let (form_action, fields) = page.form.clone().unzip();
    let ctx = context! {
        lang => s.lang(),
        title => &page.title,
        message => &page.message,
        failed => page.failed,
        form_action => form_action,
        fields => fields.unwrap_or_default(),
        button => &page.button,
        password_form => page.password_form.clone(),
        back => match page.back {
            Back::Preferences => s.get("page_back", &[]),
            Back::ActionCenter => s.get("page_to_action_center", &[]),
        },
        back_href => match page.back {
            Back::Preferences => "/preferences",
            Back::ActionCenter => crate::items::ACTION_CENTER,
        },
    };
    render("page.html", &ctx).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render a page");
        page.message.clone()
    })
}

fn render(name: &str, ctx: &minijinja::Value) -> Result<String, EmailError> {
    TEMPLATES
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| EmailError::Render(format!("{name}: {e}")))
}

/// Subjects are one header line: no line breaks, whatever the producer sent.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A due date as email shows it: unambiguous, in UTC.
pub fn format_due(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::links::SigningKey;

    fn links() -> Links {
        Links::new("https://portal.example", SigningKey::for_tests())
    }

    fn item(category: Category) -> ItemForEmail {
        ItemForEmail {
            id: "i1".into(),
            category,
            workspace: "billing".into(),
            title: [
                ("en".to_string(), "Offer <b>live</b>".to_string()),
                ("nl".to_string(), "Aanbod live".to_string()),
            ]
            .into(),
            body: [(
                "en".to_string(),
                "Details & more <img src=x onerror=alert(1)>".to_string(),
            )]
            .into(),
            link: Some("/marketplace".into()),
            due_at: None,
        }
    }

    fn recipient(language: &str) -> Recipient {
        Recipient {
            user_id: "u1".into(),
            display_name: "Ada".into(),
            language: language.into(),
        }
    }

    /// HTML escaping writes `/` as an entity; browsers read it back.
    fn unescape(html: &str) -> String {
        html.replace("&#x2f;", "/")
    }

    #[test]
    fn every_language_has_every_english_string() {
        let english = &STRINGS["en"];
        for (lang, strings) in STRINGS.iter() {
            for key in english.keys() {
                assert!(strings.contains_key(key), "{lang} lacks {key}");
            }
        }
    }

    #[test]
    fn item_text_and_strings_fall_back_to_english() {
        let mail = item_email(
            &links(),
            &item(Category::Transactional),
            &recipient("nl"),
            ItemEmail::New,
        )
        .unwrap();
        assert_eq!(mail.subject, "Aanbod live");
        assert!(mail.text.contains("Hallo Ada,"), "{}", mail.text);
        // The body has no Dutch text: English it is.
        assert!(mail.text.contains("Details & more"), "{}", mail.text);
        assert!(mail.text.contains("Werkruimte: Facturering"), "{}", mail.text);
        let mail = item_email(
            &links(),
            &item(Category::Transactional),
            &recipient("fr-BE"),
            ItemEmail::New,
        )
        .unwrap();
        assert_eq!(mail.subject, "Offer <b>live</b>");
        assert!(mail.text.contains("Bonjour Ada,"));
        let mail = item_email(
            &links(),
            &item(Category::Transactional),
            &recipient("xx"),
            ItemEmail::New,
        )
        .unwrap();
        assert!(mail.text.contains("Hello Ada,"));
    }

    #[test]
    fn producer_text_is_escaped_in_html() {
        let mail = item_email(
            &links(),
            &item(Category::Promotional),
            &recipient("en"),
            ItemEmail::New,
        )
        .unwrap();
        assert!(!mail.html.contains("<b>live</b>"));
        assert!(
            mail.html.contains("Offer &lt;b&gt;live&lt;&#x2f;b&gt;")
                || mail.html.contains("Offer &lt;b&gt;live&lt;/b&gt;"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<img"));
    }

    /// The email opens its item through a deep link signed for this recipient and this item,
    /// in the HTML and in the plain text.
    #[test]
    fn the_item_email_links_to_the_item_through_a_signed_deep_link() {
        let links = links();
        let mail = item_email(
            &links,
            &item(Category::Promotional),
            &recipient("en"),
            ItemEmail::New,
        )
        .unwrap();
        let html = unescape(&mail.html);
        let start = html
            .find("href=\"https://portal.example/open/")
            .expect("a deep link")
            + 6;
        let url = &html[start..start + html[start..].find('"').unwrap()];
        let token = url.strip_prefix("https://portal.example/open/").unwrap();
        assert_eq!(links.check_open_item(token), Some(("u1".into(), "i1".into())));
        assert!(mail.text.contains(url), "{}", mail.text);
    }

    #[test]
    fn only_optional_email_carries_one_click_unsubscribe() {
        for category in [Category::Transactional, Category::Promotional] {
            let mail = item_email(&links(), &item(category), &recipient("en"), ItemEmail::New).unwrap();
            let header = &mail.headers["List-Unsubscribe"];
            assert!(header.starts_with("<https://portal.example/unsubscribe/") && header.ends_with('>'));
            assert_eq!(
                mail.headers["List-Unsubscribe-Post"],
                "List-Unsubscribe=One-Click"
            );
            assert!(
                mail.text
                    .contains(&format!("Unsubscribe from {} email", category.as_str()))
            );
            assert!(mail.text.contains("Stop email from the Billing workspace"));
        }
        for category in [Category::Mandatory, Category::Recommended] {
            let mut action = item(category);
            action.due_at = Some(1_767_225_599_000);
            let mail = item_email(&links(), &action, &recipient("en"), ItemEmail::New).unwrap();
            assert!(mail.headers.is_empty());
            assert!(!mail.text.contains("/unsubscribe/"));
            assert!(mail.text.contains("Due: 2025-12-31 23:59 UTC"), "{}", mail.text);
        }
    }

    #[test]
    fn reminders_say_when() {
        let mut action = item(Category::Mandatory);
        action.due_at = Some(0);
        let r = recipient("de");
        assert_eq!(
            item_email(&links(), &action, &r, ItemEmail::Reminder1d)
                .unwrap()
                .subject,
            "Erinnerung: Offer <b>live</b> ist morgen fällig"
        );
        assert_eq!(
            item_email(&links(), &action, &r, ItemEmail::Overdue)
                .unwrap()
                .subject,
            "Überfällig: Offer <b>live</b>"
        );
    }

    #[test]
    fn subjects_stay_on_one_line() {
        let mut it = item(Category::Promotional);
        it.title = [("en".to_string(), "Evil\r\nBcc: x@y.z".to_string())].into();
        let mail = item_email(&links(), &it, &recipient("en"), ItemEmail::New).unwrap();
        assert_eq!(mail.subject, "Evil Bcc: x@y.z");
    }

    #[test]
    fn the_verification_email_carries_the_link() {
        let mail = verification_email(&links(), &recipient("en"), "new@contoso.test", "tok123").unwrap();
        assert_eq!(mail.subject, "Confirm your notification email address");
        assert!(mail.text.contains("https://portal.example/verify-email/tok123"));
        assert!(unescape(&mail.html).contains("href=\"https://portal.example/verify-email/tok123\""));
        assert!(mail.text.contains("new@contoso.test"));
    }
}
