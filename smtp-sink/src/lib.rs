//! A small SMTP server for loopback tests and benchmarks: it accepts every message and keeps
//! it in memory (and, when given a folder, as an `.eml` file per message).
//!
//! It speaks enough of RFC 5321 for a real client (lettre) to deliver through it: EHLO/HELO,
//! MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT. It can be told to refuse mail
//! (`421` at the greeting, as a relay that is down for maintenance does) to test retries.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body, CRLF line ends, dot-unstuffed).
    pub data: String,
}

impl Received {
    /// The value of the first header with this name (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push(' ');
                    v.push_str(line.trim());
                    continue;
                }
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_string());
            }
        }
        value
    }
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    refusing: AtomicBool,
    counter: AtomicU64,
    arrived: Notify,
    dir: Option<PathBuf>,
}

/// A running sink; it stops when dropped.
pub struct SmtpSink {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on `addr` (use port 0 for any free port).
    pub async fn start(addr: &str, dir: Option<PathBuf>) -> std::io::Result<SmtpSink> {
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir)?;
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            dir,
            ..Shared::default()
        });
        let accept = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // Replies are small writes: without this, delayed ACKs cost 40 ms per command.
                let _ = stream.set_nodelay(true);
                let shared = accept.clone();
                tokio::spawn(async move {
                    let _ = session(stream, shared).await;
                });
            }
        });
        Ok(SmtpSink { addr, shared, task })
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// `smtp://host:port` for a client.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// While refusing, every connection is greeted with `421` and closed.
    pub fn set_refusing(&self, refusing: bool) {
        self.shared.refusing.store(refusing, Ordering::SeqCst);
    }

    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().expect("sink lock").clone()
    }

    /// Waits until at least `n` messages arrived or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.messages();
            }
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if shared.refusing.load(Ordering::SeqCst) {
        write
            .write_all(b"421 sink.test Service not available, try again later\r\n")
            .await?;
        return Ok(());
    }
    write.write_all(b"220 sink.test ESMTP smtp-sink\r\n").await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n",
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                // A relay going down also refuses on connections that were already open.
                if shared.refusing.load(Ordering::SeqCst) {
                    write
                        .write_all(b"421 sink.test Service not available, closing\r\n")
                        .await?;
                    return Ok(());
                }
                from = address_of(&command);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(address_of(&command));
                b"250 OK\r\n"
            }
            "DATA" => {
                if to.is_empty() {
                    write.write_all(b"503 need RCPT first\r\n").await?;
                    continue;
                }
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    quick_ack(&lines);
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                keep(
                    &shared,
                    Received {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        data,
                    },
                )?;
                b"250 OK queued\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// Acknowledges received data at once instead of after the usual delay. A client that sends
/// the message and then the small end-of-data line separately (lettre does) otherwise waits
/// for that delayed acknowledgement (Nagle's algorithm), about 40 ms per message.
fn quick_ack(reader: &BufReader<tokio::net::tcp::OwnedReadHalf>) {
    #[cfg(target_os = "linux")]
    {
        let stream: &TcpStream = reader.get_ref().as_ref();
        let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = reader;
}

fn address_of(command: &str) -> String {
    let start = command.find('<').map(|i| i + 1).unwrap_or(0);
    let end = command[start..]
        .find('>')
        .map(|i| start + i)
        .unwrap_or(command.len());
    command[start..end].to_string()
}

fn keep(shared: &Shared, message: Received) -> std::io::Result<()> {
    let n = shared.counter.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(dir) = &shared.dir {
        // Written whole, then renamed, so a reader never sees half a message.
        let tmp = dir.join(format!(".{n:06}.eml.tmp"));
        std::fs::write(&tmp, &message.data)?;
        std::fs::rename(&tmp, dir.join(format!("{n:06}.eml")))?;
    }
    shared.messages.lock().expect("sink lock").push(message);
    shared.arrived.notify_waiters();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_unfolded_and_case_insensitively() {
        let r = Received {
            from: "a@b".into(),
            to: vec!["c@d".into()],
            data: "Subject: Hello\r\n World\r\nlist-unsubscribe: <https://x>\r\n\r\nBody: no\r\n".into(),
        };
        assert_eq!(r.header("subject").as_deref(), Some("Hello World"));
        assert_eq!(r.header("List-Unsubscribe").as_deref(), Some("<https://x>"));
        assert_eq!(r.header("Body"), None);
    }
}
