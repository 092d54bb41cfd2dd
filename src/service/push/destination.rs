//! Where push delivery may connect. A push URL is chosen by an organization's admin, and the
//! server POSTs to it from inside the operator's network: without a rule, any admin could make
//! scimd call this machine's own services or the cloud metadata service (server-side request
//! forgery). Loopback, link-local, unspecified, multicast and broadcast addresses are refused
//! unless the operator lists them (`--events-push-allow`); private networks, where on-premises
//! applications live, are refused too with `--events-push-public-only`, for operators who host
//! organizations they do not run.
//!
//! Checked on the addresses a host resolves to: when a stream is created, so that the admin
//! learns at once; before each batch of POSTs, to tell the admin why a stream stopped (the
//! operator may have narrowed the rule since); and in the HTTP client's resolver, so a name
//! that resolves elsewhere a moment later (DNS rebinding) still cannot lead the connection there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::Result;
use crate::scim::error::ProtocolError;

/// How long creating a stream waits for its host's name to resolve: a slow DNS server must not
/// hang the admin's request, and the deliverer checks again before every batch anyway.
pub const CREATION_LOOKUP: Duration = Duration::from_secs(2);

/// The operator's rule for push destinations.
#[derive(Debug, Clone, Default)]
pub struct PushDestinations {
    /// Networks pushed to even where the rule below would refuse them (a receiver on this
    /// machine, for one).
    pub allowed: Vec<IpNet>,
    /// Private networks (RFC 1918, shared address space, IPv6 unique-local) refused as well.
    pub public_only: bool,
}

impl PushDestinations {
    /// Why a push to `address` is refused, or `None` when it may go there.
    pub fn refusal(&self, address: IpAddr) -> Option<&'static str> {
        let address = address.to_canonical();
        if self
            .allowed
            .iter()
            .any(|network| network.contains(&address))
        {
            return None;
        }
        match address {
            IpAddr::V4(address) => self.refusal_v4(address),
            IpAddr::V6(address) => self.refusal_v6(address),
        }
    }

    fn refusal_v4(&self, address: Ipv4Addr) -> Option<&'static str> {
        let [first, second, ..] = address.octets();
        if address.is_loopback() {
            Some("a loopback address")
        } else if address.is_link_local() {
            Some("a link-local address, where cloud metadata services answer")
        } else if address.is_unspecified() || first == 0 {
            Some("an address of this host's own network")
        } else if address.is_multicast() || address.is_broadcast() {
            Some("a multicast or broadcast address")
        } else if self.public_only
            && (address.is_private() || (first == 100 && (64..128).contains(&second)))
        {
            Some("a private address")
        } else {
            None
        }
    }

    fn refusal_v6(&self, address: Ipv6Addr) -> Option<&'static str> {
        let first = address.segments()[0];
        if address.is_loopback() {
            Some("a loopback address")
        } else if first & 0xffc0 == 0xfe80 {
            Some("a link-local address, where cloud metadata services answer")
        } else if address.is_unspecified() {
            Some("an address of this host's own network")
        } else if address.is_multicast() {
            Some("a multicast or broadcast address")
        } else if self.public_only && first & 0xfe00 == 0xfc00 {
            Some("a private address")
        } else {
            None
        }
    }

    /// Why nothing may be pushed to `url`, or `Ok` when one of its host's addresses is
    /// allowed. A host that does not resolve now passes: the POST then fails and is retried
    /// like any other connection failure.
    pub async fn check(&self, url: &str) -> std::result::Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "the push URL does not parse")?;
        let host = parsed.host_str().ok_or("the push URL has no host")?;
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<IpAddr> = match literal.parse::<IpAddr>() {
            Ok(address) => vec![address],
            // RFC 6761 §6.3: these names are this host's, whatever a resolver would answer.
            Err(_) if is_localhost(host) => {
                vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]
            }
            Err(_) => {
                let port = parsed.port_or_known_default().unwrap_or(443);
                match tokio::net::lookup_host((host, port)).await {
                    Ok(resolved) => resolved.map(|socket| socket.ip()).collect(),
                    Err(_) => return Ok(()),
                }
            }
        };
        let refusals: Vec<(IpAddr, &str)> = addresses
            .iter()
            .filter_map(|address| Some((*address, self.refusal(*address)?)))
            .collect();
        match refusals.first() {
            Some((address, reason)) if refusals.len() == addresses.len() => Err(format!(
                "push to {address} refused: {reason} (the operator can allow it with \
                 serve --events-push-allow)"
            )),
            _ => Ok(()),
        }
    }

    /// Refuses a new push stream's `url` as `invalidValue` (400), naming the reason and the
    /// flag that would allow it. A name is looked up for at most [`CREATION_LOOKUP`]; one that
    /// does not answer in time passes, like one that does not resolve.
    pub async fn check_new_stream(&self, url: &str) -> Result<()> {
        match tokio::time::timeout(CREATION_LOOKUP, self.check(url)).await {
            Ok(Err(reason)) => {
                Err(ProtocolError::invalid_value(format!("push_url: {reason}")).into())
            }
            Ok(Ok(())) | Err(_) => Ok(()),
        }
    }

    /// The HTTP client's resolver: a name's refused addresses are never connected to.
    pub fn resolver(&self) -> Arc<DestinationResolver> {
        Arc::new(DestinationResolver {
            rule: Arc::new(self.clone()),
        })
    }
}

fn is_localhost(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Resolves names as the system does, then drops the addresses the rule refuses.
pub struct DestinationResolver {
    rule: Arc<PushDestinations>,
}

impl Resolve for DestinationResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let rule = Arc::clone(&self.rule);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved
                .filter(|socket| rule.refusal(socket.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to refused push destinations").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(rule: &PushDestinations, address: &str) -> bool {
        rule.refusal(address.parse().unwrap()).is_some()
    }

    #[test]
    fn this_host_and_metadata_services_are_refused_private_networks_only_when_asked() {
        let default = PushDestinations::default();
        for address in [
            "127.0.0.1",
            "127.8.9.10",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(refused(&default, address), "{address}");
        }
        for address in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "fd00::1",
            "93.184.216.34",
            "2606:2800::1",
        ] {
            assert!(!refused(&default, address), "{address}");
        }
        let public_only = PushDestinations {
            public_only: true,
            ..PushDestinations::default()
        };
        for address in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(refused(&public_only, address), "{address}");
        }
        for address in ["93.184.216.34", "100.128.0.1", "2606:2800::1"] {
            assert!(!refused(&public_only, address), "{address}");
        }
    }

    #[test]
    fn listed_networks_are_allowed_whatever_they_are() {
        let rule = PushDestinations {
            allowed: vec![
                "127.0.0.0/8".parse().unwrap(),
                "10.9.0.0/16".parse().unwrap(),
            ],
            public_only: true,
        };
        assert!(!refused(&rule, "127.0.0.1"));
        assert!(!refused(&rule, "::ffff:127.0.0.1"));
        assert!(!refused(&rule, "10.9.1.1"));
        assert!(refused(&rule, "10.8.1.1"));
        assert!(refused(&rule, "::1"));
    }

    #[tokio::test]
    async fn a_url_is_refused_when_every_address_of_its_host_is() {
        let rule = PushDestinations::default();
        let refused = rule
            .check("http://127.0.0.1:8080/events")
            .await
            .unwrap_err();
        assert!(
            refused.contains("127.0.0.1") && refused.contains("loopback"),
            "{refused}"
        );
        assert!(rule.check("http://[::1]/events").await.is_err());
        assert!(rule.check("http://localhost:9/events").await.is_err());
        assert!(
            rule.check("http://Receiver.LOCALHOST./events")
                .await
                .is_err()
        );
        assert!(rule.check("https://192.0.2.10/events").await.is_ok());
        let allowed = PushDestinations {
            allowed: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            public_only: false,
        };
        assert!(allowed.check("http://localhost:9/events").await.is_ok());
    }
}
