//! Where email goes: an SMTP relay (lettre, pooled connections, STARTTLS or TLS as the URL
//! says), or, without one, a folder of `.eml` files a new user can open.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::EmailError;

#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Smtp(_) => f.write_str("Transport::Smtp"),
            Transport::Folder(dir) => write!(f, "Transport::Folder({})", dir.display()),
        }
    }
}

/// Why a delivery failed: worth retrying, or refused for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
}

impl Transport {
    /// `smtp://host:port` (STARTTLS when offered… or required with `?tls=required`),
    /// `smtps://user:pass@host:465` (TLS), or no URL: `.eml` files under `mail_dir`.
    pub fn from_config(smtp_url: Option<&str>, mail_dir: &Path) -> Result<Transport, EmailError> {
        match smtp_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| EmailError::Config(format!("SMTP_URL is not usable ({e}); expected smtp://host:port or smtps://user:password@host:465")))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Ok(Transport::Smtp(transport))
            }
            None => {
                std::fs::create_dir_all(mail_dir).map_err(|e| {
                    EmailError::Config(format!(
                        "cannot create the mail folder {}: {e}",
                        mail_dir.display()
                    ))
                })?;
                Ok(Transport::Folder(mail_dir.to_path_buf()))
            }
        }
    }

    /// Sends one message. For the folder, `file_stem` names the file, so a message written
    /// twice (after a crash) replaces itself instead of appearing twice.
    pub async fn deliver(&self, message: Message, file_stem: &str) -> Result<(), DeliveryError> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    DeliveryError::Permanent(e.to_string())
                } else {
                    DeliveryError::Transient(e.to_string())
                }
            }),
            Transport::Folder(dir) => {
                let bytes = message.formatted();
                let tmp = dir.join(format!(".{file_stem}.eml.tmp"));
                let path = dir.join(format!("{file_stem}.eml"));
                let write = async {
                    tokio::fs::write(&tmp, &bytes).await?;
                    tokio::fs::rename(&tmp, &path).await
                };
                write
                    .await
                    .map_err(|e| DeliveryError::Transient(format!("cannot write {}: {e}", path.display())))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(_) => "the SMTP relay (SMTP_URL)".into(),
            Transport::Folder(dir) => format!(".eml files in {}", dir.display()),
        }
    }
}
