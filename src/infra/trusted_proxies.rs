//! Who the client is behind a proxy. Only a peer listed in `TRUSTED_PROXIES`
//! may say so, with `X-Forwarded-For`: the client is the rightmost address
//! there that is not itself a trusted proxy. Anyone else's header is ignored,
//! so a client cannot pick its own address (and its own rate-limit bucket).

use std::{
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use crate::models::security_events::network;

/// Addresses and networks (`10.0.0.0/8`, `::1`), from a comma-separated list.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<(IpAddr, u8)>,
    /// Whether an untrusted peer's `X-Forwarded-For` was logged already.
    warned: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("TRUSTED_PROXIES: {0:?} is not an address or network")]
pub struct InvalidProxy(String);

impl TrustedProxies {
    /// # Errors
    /// When an entry is neither an address nor a network.
    pub fn parse(list: &str) -> Result<Self, InvalidProxy> {
        let entries = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty());
        entries
            .map(|entry| {
                let invalid = || InvalidProxy(entry.to_string());
                let (address, prefix) = entry.split_once('/').unwrap_or((entry, ""));
                let ip: IpAddr = address.parse().map_err(|_| invalid())?;
                let bits = if ip.is_ipv4() { 32 } else { 128 };
                let prefix = if prefix.is_empty() {
                    bits
                } else {
                    prefix
                        .parse()
                        .ok()
                        .filter(|prefix| *prefix <= bits)
                        .ok_or_else(invalid)?
                };
                Ok((network(ip, prefix), prefix))
            })
            .collect::<Result<_, _>>()
            .map(|networks| Self {
                networks,
                warned: Arc::default(),
            })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks
            .iter()
            .any(|(net, prefix)| net.is_ipv4() == ip.is_ipv4() && network(ip, *prefix) == *net)
    }

    /// The client of a request from `peer` carrying `forwarded_for` (the
    /// `X-Forwarded-For` values, in order).
    #[must_use]
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        mut forwarded_for: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        if !self.trusts(peer) {
            if forwarded_for.next().is_some() {
                self.warn_untrusted(peer);
            }
            return peer;
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|value| value.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }

    /// Behind a proxy missing from `TRUSTED_PROXIES`, every client has the
    /// proxy's address, and so shares one rate-limit bucket: said once, at
    /// the first such header.
    fn warn_untrusted(&self, peer: IpAddr) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                %peer,
                "X-Forwarded-For from a peer not in TRUSTED_PROXIES is ignored: if it is a \
                 proxy, list it there, or every client behind it shares its rate limits"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn parses_addresses_and_networks() {
        let proxies = TrustedProxies::parse(" 10.0.0.0/8, ::1 ,192.168.1.7").expect("valid");
        assert!(proxies.trusts(ip("10.20.30.40")));
        assert!(proxies.trusts(ip("::1")));
        assert!(proxies.trusts(ip("192.168.1.7")));
        assert!(proxies.trusts(ip("::ffff:10.0.0.1")));
        assert!(!proxies.trusts(ip("192.168.1.8")));
        assert!(!proxies.trusts(ip("11.0.0.1")));
        assert!(
            TrustedProxies::parse("")
                .expect("empty")
                .networks
                .is_empty()
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
    }

    #[test]
    fn only_a_trusted_peer_is_believed_and_only_for_the_hops_it_vouches_for() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("valid");
        let client = |peer: &str, header: &str| proxies.client(ip(peer), [header].into_iter());
        // An untrusted peer says what it likes: ignored.
        assert_eq!(client("203.0.113.9", "198.51.100.1"), ip("203.0.113.9"));
        // Through the proxy: the rightmost address it did not add itself.
        assert_eq!(client("10.0.0.2", "198.51.100.1"), ip("198.51.100.1"));
        // A forged left part does not move the client.
        assert_eq!(
            client("10.0.0.2", "1.2.3.4, 198.51.100.1"),
            ip("198.51.100.1")
        );
        // Proxies in a chain are skipped.
        assert_eq!(
            client("10.0.0.2", "198.51.100.1, 10.0.0.3"),
            ip("198.51.100.1")
        );
        // Garbage stops the walk at the last address that parsed.
        assert_eq!(client("10.0.0.2", "garbage, 10.0.0.3"), ip("10.0.0.3"));
        assert_eq!(client("10.0.0.2", ""), ip("10.0.0.2"));
    }

    /// Counts the warnings logged while it is the default.
    #[derive(Clone, Default)]
    struct Warnings(Arc<std::sync::atomic::AtomicUsize>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _ctx: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if *event.metadata().level() == tracing::Level::WARN {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Behind a proxy nobody listed, every client would share its rate
    /// limits without a word: the first forwarded address from an untrusted
    /// peer is logged, once; a request without the header says nothing.
    #[test]
    fn a_forwarded_address_from_an_untrusted_peer_is_logged_once() {
        use tracing_subscriber::layer::SubscriberExt;

        let warnings = Warnings::default();
        let subscriber = tracing_subscriber::registry().with(warnings.clone());
        tracing::subscriber::with_default(subscriber, || {
            let proxies = TrustedProxies::parse("10.0.0.0/8").expect("valid");
            assert_eq!(
                proxies.client(ip("203.0.113.9"), std::iter::empty()),
                ip("203.0.113.9")
            );
            assert_eq!(warnings.0.load(Ordering::Relaxed), 0);
            for client in ["198.51.100.1", "198.51.100.2"] {
                let seen = proxies.client(ip("203.0.113.9"), [client].into_iter());
                assert_eq!(seen, ip("203.0.113.9"));
            }
            let seen = proxies.client(ip("10.0.0.2"), ["198.51.100.3"].into_iter());
            assert_eq!(seen, ip("198.51.100.3"));
        });
        assert_eq!(warnings.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn networks_keep_their_prefix() {
        assert_eq!(
            network(ip("2001:db8:1:2:3:4:5:6"), 64),
            ip("2001:db8:1:2::")
        );
        assert_eq!(network(ip("192.168.7.9"), 24), ip("192.168.7.0"));
        assert_eq!(network(ip("192.168.7.9"), 0), ip("0.0.0.0"));
    }
}
