//! Ports for servers and brokers the tests start.

use std::net::TcpListener;

/// A free TCP port on 127.0.0.1 for a server to take, below the kernel's ephemeral range.
///
/// Why not port 0's choice: that is an ephemeral port, and the scenarios restart servers and
/// brokers on the same port after a `kill -9`. Meanwhile every client socket of the parallel
/// scenarios (handhelds reconnecting during an outage, HTTP clients) takes its local port from
/// the same ephemeral range, and one that lands on the freed port makes the restart fail with
/// "address in use" (seen once in `devices_e2e`). Below the range no client socket ever takes it.
pub fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| {
            r.split_whitespace()
                .next()
                .and_then(|p| p.parse::<u16>().ok())
        })
        .unwrap_or(32_768);
    let (from, to) = (10_000_u16, low.max(10_001));
    for _ in 0..1_000 {
        let port = from + (crate::random_u64() % u64::from(to - from)) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}
