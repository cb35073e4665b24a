//! Datagrams the kernel dropped before the agent could read them.
//!
//! When a flood outruns the listener, the socket's receive buffer fills and
//! the kernel discards datagrams: they never reach user space, so only the
//! kernel can count them. `/proc/net/udp` (and `udp6`) list each socket with
//! its own `drops` column; reading ours keeps that loss visible on
//! `/metrics` instead of silent.

use std::net::SocketAddr;

/// Drops of the UDP socket bound to `addr`, or `None` where the kernel does
/// not say (not Linux, or the socket is gone).
pub fn udp_drops(addr: SocketAddr) -> Option<u64> {
    let table = if addr.is_ipv4() {
        "/proc/net/udp"
    } else {
        "/proc/net/udp6"
    };
    let text = std::fs::read_to_string(table).ok()?;
    drops_for_port(&text, addr.port())
}

/// Parses a `/proc/net/udp` table: `sl local_address rem_address st … drops`,
/// addresses as `HEXIP:HEXPORT`, `drops` the last column.
fn drops_for_port(table: &str, port: u16) -> Option<u64> {
    let want = format!(":{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace();
        let local = cols.nth(1)?;
        if !local.ends_with(&want) {
            return None;
        }
        line.split_whitespace().last()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0100007F:1FBD 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17
  124: 0100007F:2710 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 0
";

    #[test]
    fn finds_the_drops_of_our_port() {
        assert_eq!(drops_for_port(TABLE, 8125), Some(17));
        assert_eq!(drops_for_port(TABLE, 10000), Some(0));
        assert_eq!(drops_for_port(TABLE, 9999), None);
    }

    #[test]
    fn reads_a_real_socket() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(udp_drops(s.local_addr().unwrap()), Some(0));
    }
}
