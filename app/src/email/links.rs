//! Links in email: to items, to My preferences, to verify an address, and signed one-click
//! unsubscribe links (RFC 8058) that need no sign-in.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::db::{Db, DbError};
use crate::items::ItemId;
use crate::orgs::UserId;

const KEY_SETTING: &str = "email_signing_key";

/// The instance's secret for signing unsubscribe tokens. It lives in the database, so every
/// instance on one database shares it and links stay valid across restarts.
#[derive(Clone)]
pub struct SigningKey(Arc<[u8]>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(…)")
    }
}

impl SigningKey {
    /// The stored key, created on first use (concurrent instances agree on the first one written).
    pub async fn load_or_create(db: &Db) -> Result<SigningKey, DbError> {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(KEY_SETTING)
            .bind(hex::encode(fresh))
            .execute(db.pool())
            .await?;
        let stored = db
            .setting(KEY_SETTING)
            .await?
            .ok_or_else(|| DbError::NotFound("email signing key".into()))?;
        let bytes = hex::decode(stored).map_err(|_| DbError::NotFound("a valid email signing key".into()))?;
        Ok(SigningKey(bytes.into()))
    }

    #[cfg(test)]
    pub(crate) fn for_tests() -> SigningKey {
        SigningKey(vec![42; 32].into())
    }

    fn mac(&self, message: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(message);
        mac
    }
}

/// What an unsubscribe link turns off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsubscribeTarget {
    /// `transactional` or `promotional` email.
    Category(String),
    /// Transactional and promotional email from one workspace.
    Workspace(crate::items::Workspace),
}

/// A verified unsubscribe request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub user_id: crate::orgs::UserId,
    pub target: UnsubscribeTarget,
}

/// Builds the absolute links that go into email.
#[derive(Clone, Debug)]
pub struct Links {
    public_url: String,
    key: SigningKey,
}

impl Links {
    pub fn new(public_url: &str, key: SigningKey) -> Links {
        Links {
            public_url: public_url.trim_end_matches('/').to_string(),
            key,
        }
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The host part of the public URL (for Message-IDs).
    pub fn host(&self) -> &str {
        let rest = self.public_url.split("://").nth(1).unwrap_or(&self.public_url);
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        if host.is_empty() { "localhost" } else { host }
    }

    pub fn absolute(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with('/') {
            format!("{}{path_or_url}", self.public_url)
        } else {
            path_or_url.to_string()
        }
    }

    pub fn action_center(&self) -> String {
        format!("{}/action-center", self.public_url)
    }

    pub fn preferences(&self) -> String {
        format!("{}/preferences", self.public_url)
    }

    pub fn verify(&self, token: &str) -> String {
        format!("{}/verify-email/{token}", self.public_url)
    }

    pub fn set_password(&self, token: &str) -> String {
        format!("{}/set-password/{token}", self.public_url)
    }

    pub fn unsubscribe(&self, user_id: &str, target: &UnsubscribeTarget) -> String {
        format!(
            "{}/unsubscribe/{}",
            self.public_url,
            self.unsubscribe_token(user_id, target)
        )
    }

    /// `base64url(user \n kind \n name) . base64url(hmac)`; it does not expire, as an
    /// unsubscribe link in an old email must keep working.
    pub fn unsubscribe_token(&self, user_id: &str, target: &UnsubscribeTarget) -> String {
        let (kind, name) = match target {
            UnsubscribeTarget::Category(c) => ("c", c.as_str()),
            UnsubscribeTarget::Workspace(w) => ("w", w.as_str()),
        };
        self.sign(&format!("{user_id}\n{kind}\n{name}"))
    }

    /// The request a token stands for, if it was signed with this instance's key.
    pub fn check_unsubscribe(&self, token: &str) -> Option<Unsubscribe> {
        let (user_id, kind, name) = self.signed_parts(token)?;
        let target = match kind.as_str() {
            "c" => UnsubscribeTarget::Category(name),
            "w" => UnsubscribeTarget::Workspace(name.into()),
            _ => return None,
        };
        Some(Unsubscribe {
            user_id: user_id.into(),
            target,
        })
    }

    /// The link in an item's email that opens the item and marks it read for `user_id`
    /// (`/open/{token}`). Like unsubscribe links it does not expire.
    pub fn open_item(&self, user_id: &UserId, item_id: &ItemId) -> String {
        format!(
            "{}/open/{}",
            self.public_url,
            self.open_item_token(user_id, item_id)
        )
    }

    /// `open_item`'s token: the user and the item, signed; kind `o`, so it is never taken for
    /// an unsubscribe token or the other way round.
    pub fn open_item_token(&self, user_id: &UserId, item_id: &ItemId) -> String {
        self.sign(&format!("{user_id}\no\n{item_id}"))
    }

    /// The user and item an open-item token was signed for.
    pub fn check_open_item(&self, token: &str) -> Option<(UserId, ItemId)> {
        let (user_id, kind, item_id) = self.signed_parts(token)?;
        (kind == "o").then(|| (user_id.into(), item_id.into()))
    }

    /// `base64url(message) . base64url(hmac of message)`.
    fn sign(&self, message: &str) -> String {
        let tag = self.key.mac(message.as_bytes()).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(message),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The three lines of a message signed with this instance's key (`user`, `kind`, `name`).
    fn signed_parts(&self, token: &str) -> Option<(String, String, String)> {
        let (message, tag) = token.split_once('.')?;
        let message = URL_SAFE_NO_PAD.decode(message).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.key.mac(&message).verify_slice(&tag).ok()?;
        let message = String::from_utf8(message).ok()?;
        let mut parts = message.splitn(3, '\n');
        let (user_id, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
        Some((user_id.to_string(), kind.to_string(), name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(secret: u8) -> Links {
        Links::new("https://portal.example/", SigningKey(vec![secret; 32].into()))
    }

    #[test]
    fn unsubscribe_tokens_round_trip_and_resist_forgery() {
        let links = links(7);
        let target = UnsubscribeTarget::Workspace("billing".into());
        let token = links.unsubscribe_token("user-1", &target);
        assert_eq!(
            links.check_unsubscribe(&token),
            Some(Unsubscribe {
                user_id: "user-1".into(),
                target: target.clone()
            })
        );
        // Another instance's key, a changed payload, a truncated tag: all refused.
        assert_eq!(self::links(8).check_unsubscribe(&token), None);
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("user-2\nw\nbilling"));
        assert_eq!(links.check_unsubscribe(&forged), None);
        assert_eq!(links.check_unsubscribe(&token[..token.len() - 2]), None);
        assert_eq!(links.check_unsubscribe("garbage"), None);
    }

    #[test]
    fn open_item_tokens_name_the_user_and_item_and_are_no_unsubscribe_tokens() {
        let links = links(7);
        let (user, item) = (UserId::from("user-1"), ItemId::from("0193-item"));
        let url = links.open_item(&user, &item);
        let token = url.strip_prefix("https://portal.example/open/").unwrap();
        assert_eq!(links.check_open_item(token), Some((user.clone(), item.clone())));
        assert_eq!(links.check_unsubscribe(token), None, "kinds do not mix");
        let unsubscribe =
            links.unsubscribe_token("user-1", &UnsubscribeTarget::Category("promotional".into()));
        assert_eq!(links.check_open_item(&unsubscribe), None);
        assert_eq!(self::links(8).check_open_item(token), None, "another key");
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("user-2\no\n0193-item"));
        assert_eq!(links.check_open_item(&forged), None);
    }

    #[test]
    fn links_are_absolute() {
        let links = links(1);
        assert_eq!(links.absolute("/x?y=1"), "https://portal.example/x?y=1");
        assert_eq!(links.absolute("https://a.example/b"), "https://a.example/b");
        assert_eq!(links.verify("abc"), "https://portal.example/verify-email/abc");
        assert!(
            links
                .unsubscribe("u", &UnsubscribeTarget::Category("promotional".into()))
                .starts_with("https://portal.example/unsubscribe/")
        );
        assert_eq!(links.host(), "portal.example");
        assert_eq!(
            Links::new("http://127.0.0.1:3000", SigningKey(vec![1].into())).host(),
            "127.0.0.1"
        );
    }
}
