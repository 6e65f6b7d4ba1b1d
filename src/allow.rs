//! The one allow-list parser: `--allow` of `serve` and `volunteer`, and the wizard's
//! question. An entry is an IPv4 or IPv6 address or a CIDR network. A network written
//! with host bits (`10.1.2.3/0`, `192.168.1.7/24`) is refused: it does not say which
//! network was meant, and truncating it silently can widen it to everyone.

use std::net::IpAddr;

use ipnet::IpNet;

/// Why an allow-list entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not an address or a network.
    #[error(
        "--allow {0}: not an IP address or CIDR network (e.g. 192.168.1.0/24, 10.0.0.5, fd00::/8)"
    )]
    Syntax(String),
    /// A network with host bits set.
    #[error(
        "--allow {given}: host bits are set below the /{prefix}; the network is {network} — write that (or the address alone for one host)"
    )]
    HostBits {
        /// As written.
        given: String,
        /// Its prefix length.
        prefix: u8,
        /// The network it truncates to.
        network: IpNet,
    },
    /// Everyone, without saying so on purpose.
    #[error(
        "--allow {0} lets every host on every network use this machine's compilers; pass --allow-anyone if that is really meant"
    )]
    Everyone(String),
    /// Nothing allowed.
    #[error(
        "no --allow given: name the masters that may connect, e.g. --allow 192.168.1.0/24 (or --allow 127.0.0.1/32 for this machine only)"
    )]
    Empty,
}

/// Parse one entry: an address (a one-host network) or a CIDR network without host bits.
pub fn parse_entry(text: &str) -> Result<IpNet, Error> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        if net.trunc() != net {
            return Err(Error::HostBits {
                given: text.to_string(),
                prefix: net.prefix_len(),
                network: net.trunc(),
            });
        }
        return Ok(net);
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| Error::Syntax(text.to_string()))
}

/// Parse a whole list. A network that contains every address (`0.0.0.0/0`, `::/0`) is
/// refused unless `anyone`; an empty list is refused unless `anyone` (then it means
/// everyone). Duplicates are dropped, order kept.
pub fn parse_list<S: AsRef<str>>(entries: &[S], anyone: bool) -> Result<Vec<IpNet>, Error> {
    let mut out: Vec<IpNet> = Vec::new();
    for e in entries {
        let net = parse_entry(e.as_ref())?;
        if net.prefix_len() == 0 && !anyone {
            return Err(Error::Everyone(e.as_ref().trim().to_string()));
        }
        if !out.contains(&net) {
            out.push(net);
        }
    }
    if out.is_empty() {
        if !anyone {
            return Err(Error::Empty);
        }
        out.push(IpNet::V4(ipnet::Ipv4Net::default()));
        out.push(IpNet::V6(ipnet::Ipv6Net::default()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_networks_parse_and_host_bits_are_refused() {
        assert_eq!(parse_entry("10.0.0.5").unwrap().to_string(), "10.0.0.5/32");
        assert_eq!(
            parse_entry("192.168.1.0/24").unwrap().to_string(),
            "192.168.1.0/24"
        );
        assert_eq!(parse_entry("fd00::/8").unwrap().to_string(), "fd00::/8");
        assert_eq!(parse_entry("::1").unwrap().to_string(), "::1/128");
        let e = parse_entry("10.1.2.3/0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--allow 10.1.2.3/0: host bits are set below the /0; the network is 0.0.0.0/0 — write that (or the address alone for one host)"
        );
        assert!(matches!(
            parse_entry("192.168.1.7/24"),
            Err(Error::HostBits { .. })
        ));
        assert!(matches!(parse_entry("lan"), Err(Error::Syntax(_))));
        assert!(matches!(parse_entry("10.0.0.0/33"), Err(Error::Syntax(_))));
    }

    #[test]
    fn everyone_needs_to_be_asked_for() {
        assert_eq!(
            parse_list(&["0.0.0.0/0"], false),
            Err(Error::Everyone("0.0.0.0/0".into()))
        );
        assert_eq!(parse_list::<&str>(&[], false), Err(Error::Empty));
        assert_eq!(parse_list::<&str>(&[], true).unwrap().len(), 2);
        assert_eq!(
            parse_list(&["10.0.0.1", "10.0.0.1/32", "::/0"], true)
                .unwrap()
                .len(),
            2
        );
    }
}
