//! The background thread that packs lines into datagrams.

use std::io;
use std::net::UdpSocket;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::{Stats, Target};

pub(crate) enum Msg {
    Line(String),
    Flush,
}

pub(crate) enum Socket {
    Udp(UdpSocket),
    /// Sent with `send_to` each time so that an agent started after the
    /// game, or restarted, is reached without reconnecting.
    Unix(UnixDatagram, std::path::PathBuf),
}

impl Socket {
    pub(crate) fn connect(target: &Target) -> io::Result<Socket> {
        match target {
            Target::Udp(addr) => {
                let bind = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let s = UdpSocket::bind(bind)?;
                s.connect(addr)?;
                Ok(Socket::Udp(s))
            }
            Target::Unix(path) => Ok(Socket::Unix(UnixDatagram::unbound()?, path.clone())),
        }
    }

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Udp(s) => s.send(buf),
            Socket::Unix(s, path) => s.send_to(buf, path),
        }
    }
}

pub(crate) fn run(socket: Socket, rx: Receiver<Msg>, max: usize, every: Duration, stats: &Stats) {
    let mut buf: Vec<u8> = Vec::with_capacity(max);
    let mut oldest: Option<Instant> = None;
    loop {
        let wait = match oldest {
            Some(t) => every.saturating_sub(t.elapsed()),
            None => Duration::from_secs(3600),
        };
        match rx.recv_timeout(wait) {
            Ok(Msg::Line(line)) => {
                if !buf.is_empty() && buf.len() + 1 + line.len() > max {
                    flush(&socket, &mut buf, stats);
                    oldest = None;
                }
                if !buf.is_empty() {
                    buf.push(b'\n');
                }
                buf.extend_from_slice(line.as_bytes());
                oldest.get_or_insert_with(Instant::now);
            }
            Ok(Msg::Flush) | Err(RecvTimeoutError::Timeout) => {
                flush(&socket, &mut buf, stats);
                oldest = None;
            }
            Err(RecvTimeoutError::Disconnected) => {
                flush(&socket, &mut buf, stats);
                return;
            }
        }
    }
}

fn flush(socket: &Socket, buf: &mut Vec<u8>, stats: &Stats) {
    if buf.is_empty() {
        return;
    }
    match socket.send(buf) {
        Ok(_) => stats.datagrams.fetch_add(1, Ordering::Relaxed),
        Err(_) => stats.send_errors.fetch_add(1, Ordering::Relaxed),
    };
    buf.clear();
}
