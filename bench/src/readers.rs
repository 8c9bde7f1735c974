//! How the load generator reads the live streams it holds, and times what arrives on them.
//!
//! The load generator shares the server's two cores, which remote browsers would not. Every
//! socket asks the kernel to stamp what it receives with its arrival time (`SO_TIMESTAMPNS`),
//! so a delivery is timed when it reached the stream, whenever the load generator reads it.
//! Read at once (a task per stream, woken by each event), every write of the server also wakes
//! the load generator's threads on loopback; read in rounds (one thread that looks at all
//! sockets every millisecond), the server's writes wake nothing.

use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::ValueEnum;
use mio::{Events, Interest, Poll, Token};
use tokio::io::unix::AsyncFd;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::UnboundedSender;

use crate::publish::MARK;

/// What the load generator does with an event, as a browser would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnEvent {
    /// Nothing more: the event carries the changed items and counts (the single-page app).
    Apply,
    /// Fetches the page the stream belongs to again (the islands UI before the single-page
    /// app: every open Action Center page reloaded its HTML on every change).
    RefetchPage,
}

impl OnEvent {
    pub fn name(self) -> &'static str {
        match self {
            OnEvent::Apply => "apply",
            OnEvent::RefetchPage => "refetch_page",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Reader {
    /// One thread reads every socket once a millisecond.
    Rounds,
    /// A task per stream reads each event as soon as it arrives.
    AtOnce,
}

impl Reader {
    pub fn name(self) -> &'static str {
        match self {
            Reader::Rounds => "rounds",
            Reader::AtOnce => "at_once",
        }
    }
}

/// One benchmark event as a stream received it.
pub struct Arrival {
    pub mark: usize,
    /// Which of the load generator's streams it came on.
    pub stream: usize,
    /// When the load generator read it.
    pub read_at: SystemTime,
    /// When it reached the stream's socket, stamped by the kernel.
    pub arrived: Option<SystemTime>,
}

/// Asks the kernel to stamp what the socket receives with the time it arrived.
pub fn stamp_arrivals(fd: RawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: sets an integer option on a socket this process owns, from a live integer.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One `recvmsg` from a stream: the bytes read and when the last of them reached the socket.
fn read_stamped(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<SystemTime>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one timestamp message; u64s keep it aligned as a `cmsghdr` must be.
    let mut control = [0u64; 8];
    // SAFETY: an all-zero `msghdr` is valid (no name, no buffers), then filled in below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control) as _;
    // SAFETY: `msg` points at `buf` and `control`, both alive and writable for the call.
    let n = unsafe { libc::recvmsg(fd, &raw mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut arrived = None;
    // SAFETY: walks the control messages the kernel wrote into `control`, within the length
    // it reported in `msg`; the timestamp is read unaligned from its message's data.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
                let at: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                arrived = Some(UNIX_EPOCH + Duration::new(at.tv_sec as u64, at.tv_nsec as u32));
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
    }
    Ok((n as usize, arrived))
}

/// What one stream has received so far, and where its arrivals go.
pub struct Received {
    stream: usize,
    text: String,
    /// Held until the stream's first event, so only so many streams open at once.
    pub permit: Option<OwnedSemaphorePermit>,
    ready: Arc<AtomicUsize>,
    arrivals: UnboundedSender<Arrival>,
}

impl Received {
    pub fn new(stream: usize, ready: Arc<AtomicUsize>, arrivals: UnboundedSender<Arrival>) -> Received {
        Received {
            stream,
            text: String::new(),
            permit: None,
            ready,
            arrivals,
        }
    }

    fn take(&mut self, bytes: &[u8], arrived: Option<SystemTime>) {
        let read_at = SystemTime::now();
        self.text.push_str(&String::from_utf8_lossy(bytes));
        if self.permit.is_some() && self.text.contains("\ndata:") {
            self.permit = None;
            self.ready.fetch_add(1, Ordering::SeqCst);
        }
        // Each event is one write, so a title arrives whole.
        while let Some(at) = self.text.find(MARK) {
            let digits: String = self.text[at + MARK.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(mark) = digits.parse() {
                let _ = self.arrivals.send(Arrival {
                    mark,
                    stream: self.stream,
                    read_at,
                    arrived,
                });
            }
            self.text.drain(..at + MARK.len() + digits.len());
        }
        if self.text.len() > 4096 {
            self.text.drain(..self.text.len() - 64);
        }
    }
}

const READ_BUFFER: usize = 8192;

/// Reads one stream in a task of its own, each event as soon as it arrives.
pub async fn read_at_once(conn: TcpStream, mut received: Received) {
    // SAFETY: the std stream owns its descriptor and keeps it open for as long as the
    // `AsyncFd` holds the stream.
    let Ok(conn) = (unsafe { AsyncFd::register(conn) }) else {
        return;
    };
    let mut buf = vec![0u8; READ_BUFFER];
    loop {
        let Ok(mut guard) = conn.readable().await else {
            return;
        };
        match read_stamped(conn.as_raw_fd(), &mut buf) {
            Ok((0, _)) => return,
            Ok((n, arrived)) => {
                // A short read from a stream socket drained it (epoll(7)): wait for the next
                // wake-up instead of reading again only to be told so.
                if n < buf.len() {
                    guard.clear_ready();
                }
                received.take(&buf[..n], arrived);
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
            Err(_) => return,
        }
    }
}

/// Starts the thread that reads every stream sent to it once per `round`, and returns where to
/// send them. It reads until the process ends.
pub fn read_in_rounds(round: Duration) -> std::sync::mpsc::Sender<(TcpStream, Received)> {
    let (sender, opened) = std::sync::mpsc::channel::<(TcpStream, Received)>();
    std::thread::spawn(move || {
        let mut poll = Poll::new().expect("an epoll instance");
        let mut events = Events::with_capacity(4096);
        let mut streams: Vec<Option<(mio::net::TcpStream, Received)>> = Vec::new();
        let mut buf = vec![0u8; READ_BUFFER];
        loop {
            while let Ok((conn, received)) = opened.try_recv() {
                let mut conn = mio::net::TcpStream::from_std(conn);
                let token = Token(streams.len());
                if poll
                    .registry()
                    .register(&mut conn, token, Interest::READABLE)
                    .is_ok()
                {
                    streams.push(Some((conn, received)));
                }
            }
            // Never waits: the thread sleeps between rounds instead, so no write wakes it. A
            // failed poll (an interrupted call) reads nothing this round rather than spinning.
            if poll.poll(&mut events, Some(Duration::ZERO)).is_err() {
                events.clear();
            }
            for event in &events {
                let slot = &mut streams[event.token().0];
                let Some((conn, received)) = slot else { continue };
                // Edge-triggered: read until the socket is drained (a short read says so).
                let open = loop {
                    match read_stamped(conn.as_raw_fd(), &mut buf) {
                        Ok((0, _)) => break false,
                        Ok((n, arrived)) => {
                            received.take(&buf[..n], arrived);
                            if n < buf.len() {
                                break true;
                            }
                        }
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => break true,
                        Err(_) => break false,
                    }
                };
                if !open {
                    *slot = None;
                }
            }
            std::thread::sleep(round);
        }
    });
    sender
}
