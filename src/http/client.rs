//! Who is calling: the client's IP address and user agent, for sessions and
//! the audit trail.

use std::net::IpAddr;

use ipnet::IpNet;
use poem::Request;
use poem::http::header;

use crate::auth::ClientInfo;

const MAX_USER_AGENT_CHARS: usize = 512;

/// The client of `req`. Behind trusted proxies the address comes from
/// `X-Forwarded-For`; otherwise the TCP peer is the client.
pub fn client_info(req: &Request, trusted_proxies: &[IpNet]) -> ClientInfo {
    let peer = req.remote_addr().as_socket_addr().map(|addr| addr.ip());
    let forwarded_for = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    ClientInfo {
        ip: peer.map(|peer| client_ip(peer, &forwarded_for, trusted_proxies).to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()),
    }
}

/// Whether `req` came through a trusted proxy, whose `X-Forwarded-*`
/// headers are then believed.
pub fn forwarded_by_trusted_proxy(req: &Request, trusted_proxies: &[IpNet]) -> bool {
    req.remote_addr()
        .as_socket_addr()
        .is_some_and(|addr| trusted_proxies.iter().any(|net| net.contains(&addr.ip())))
}

/// Walks `X-Forwarded-For` from the nearest hop outwards while each hop is a
/// trusted proxy; the first untrusted address is the client. Anything before
/// it was written by the client and is not believed; an unreadable entry ends
/// the walk at the last trusted hop.
fn client_ip(peer: IpAddr, forwarded_for: &str, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer;
    for hop in forwarded_for
        .rsplit(',')
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
    {
        if !is_trusted(&client) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        assert_eq!(
            client_ip(ip("10.0.0.2"), "203.0.113.7", &[]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), "203.0.113.7", &trusted),
            ip("203.0.113.7")
        );
        // Through two proxies.
        assert_eq!(
            client_ip(ip("10.0.0.2"), "203.0.113.7, 10.1.1.1", &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn addresses_the_client_prepended_are_not_believed() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), "1.2.3.4, 203.0.113.7", &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_spoof_and_garbage_stops_the_walk() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("198.51.100.9"), "203.0.113.7", &trusted),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), "203.0.113.7, bogus", &trusted),
            ip("10.0.0.2")
        );
    }
}
