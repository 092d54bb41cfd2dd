//! The rule that a token can only create, change or rotate tokens at most as permissive as
//! itself, on every axis. Without it a token could mint or edit its way out of its own scopes,
//! expiry, allowlist or rate limit (issue 18). The CLI acts as an administrator and is not
//! bounded by it. Pure comparisons of permissions, beside the other rules about what a
//! credential may do; `crate::service::tokens` loads the tokens and applies them.

use chrono::NaiveDateTime;

use super::Scopes;
use super::lifecycle::{self, Network, Restrictions};
use crate::error::{Error, Result};
use crate::store::tokens::TokenRecord;

/// What a token can do, until when, from where and how often: the axes on which one token can
/// be more permissive than another.
#[derive(Debug, Clone, PartialEq)]
pub struct Permissions {
    pub scopes: Scopes,
    /// When it stops working on its own; `None`: never.
    pub expires_at: Option<NaiveDateTime>,
    pub restrictions: Restrictions,
}

impl Permissions {
    /// A stored token's permissions. The end of a rotation's grace counts as an expiry: a
    /// superseded token cannot outlive itself through the tokens it creates.
    pub fn of(record: &TokenRecord) -> Result<Permissions> {
        Ok(Permissions {
            scopes: Scopes::parse(&record.scopes).map_err(Error::internal)?,
            expires_at: lifecycle::end_of_life(record),
            restrictions: Restrictions::of(record),
        })
    }
}

/// Refuses with 403, naming the axis, unless `requested` is at most as permissive as `holder`
/// on every axis: no scope it lacks, no later expiry (nor none when it expires), a network
/// rule within its own when it has one ([`check_network`]), a rate limit no higher than its
/// own when it has one.
/// Refusing beats clamping: a token silently granted less than asked would fail later, far
/// from the cause.
pub fn check_within(holder: &Permissions, requested: &Permissions) -> Result<()> {
    check_grantable(holder.scopes, requested.scopes)?;
    if let Some(limit) = holder.expires_at
        && requested.expires_at.is_none_or(|expiry| expiry > limit)
    {
        return Err(Error::Forbidden(format!(
            "expires_at: this token stops working at {}, so a token it creates or changes \
             must expire no later",
            limit.format("%Y-%m-%dT%H:%M:%SZ")
        )));
    }
    check_network(
        &holder.restrictions.network,
        &requested.restrictions.network,
    )?;
    if let Some(limit) = holder.restrictions.rate_limit_per_minute
        && requested
            .restrictions
            .rate_limit_per_minute
            .is_none_or(|asked| asked > limit)
    {
        return Err(Error::Forbidden(format!(
            "rate_limit_per_minute: this token is limited to {limit} requests per minute, so a \
             token it creates or changes needs a rate limit of at most {limit}"
        )));
    }
    Ok(())
}

/// Refuses unless every address `requested` lets in, `holder` lets in too, whatever the
/// zones' networks are now or become: a zone can change after the check, so a zone is
/// within only itself (the same zone on both sides changes alike), never within CIDRs that
/// happen to cover it today, nor covering CIDRs it happens to cover today.
///
/// - Only from H: only from CIDRs inside H's CIDRs and zones among H's zones.
/// - Not from H: not from a superset of H (H's CIDRs each inside one of the request's, H's
///   zones all named), or only from CIDRs that overlap none of H's, when H names no zone.
fn check_network(holder: &Network, requested: &Network) -> Result<()> {
    match (holder, requested) {
        (Network::Any, _) => Ok(()),
        (Network::OnlyFrom(own), Network::OnlyFrom(asked)) => {
            let own_text = own.entries().join(" ");
            if let Some(outside) = asked
                .cidrs
                .iter()
                .find(|net| !own.cidrs.iter().any(|mine| mine.contains(*net)))
            {
                return Err(Error::Forbidden(format!(
                    "allowed_cidrs: {outside} is outside this token's allowlist ({own_text})"
                )));
            }
            if let Some(zone) = asked.zones.iter().find(|zone| !own.names_zone(zone)) {
                return Err(Error::Forbidden(format!(
                    "allowed_cidrs: zone '{zone}' is not in this token's allowlist ({own_text}); \
                     a zone can change, so only the zones it names are within it"
                )));
            }
            Ok(())
        }
        (Network::OnlyFrom(own), _) => Err(Error::Forbidden(format!(
            "allowed_cidrs: this token may only be used from {}, so a token it creates or \
             changes needs an allowlist within those networks",
            own.entries().join(" ")
        ))),
        (Network::NotFrom(own), Network::NotFrom(asked)) => {
            if let Some(uncovered) = own
                .cidrs
                .iter()
                .find(|mine| !asked.cidrs.iter().any(|net| net.contains(*mine)))
            {
                return Err(Error::Forbidden(format!(
                    "not_from: this token may not be used from {uncovered}, so neither may a \
                     token it creates or changes"
                )));
            }
            if let Some(zone) = own.zones.iter().find(|zone| !asked.names_zone(zone)) {
                return Err(Error::Forbidden(format!(
                    "not_from: this token may not be used from zone '{zone}', so a token it \
                     creates or changes must name that zone in its not_from too"
                )));
            }
            Ok(())
        }
        (Network::NotFrom(own), Network::OnlyFrom(asked)) => {
            if !own.zones.is_empty() || !asked.zones.is_empty() {
                return Err(Error::Forbidden(format!(
                    "not_from: this token may not be used from {}; an allowlist cannot be \
                     shown to stay clear of that when a zone, which can change, is involved",
                    own.entries().join(" ")
                )));
            }
            let overlap = asked.cidrs.iter().find_map(|net| {
                own.cidrs
                    .iter()
                    .find(|mine| mine.contains(net) || net.contains(*mine))
                    .map(|mine| (net, mine))
            });
            match overlap {
                Some((net, mine)) => Err(Error::Forbidden(format!(
                    "not_from: {net} overlaps {mine}, where this token may not be used from"
                ))),
                None => Ok(()),
            }
        }
        (Network::NotFrom(own), Network::Any) => Err(Error::Forbidden(format!(
            "not_from: this token may not be used from {}, so a token it creates or changes \
             needs a not_from rule covering those networks",
            own.entries().join(" ")
        ))),
    }
}

/// A token may mint or grant only scopes its caller holds, so `tokens:manage` alone cannot
/// escalate to SCIM access.
pub fn check_grantable(caller: Scopes, requested: Scopes) -> Result<()> {
    match requested.iter().find(|scope| !caller.contains(*scope)) {
        Some(scope) => Err(Error::Forbidden(format!(
            "scopes: a token cannot grant the '{}' scope it does not hold",
            scope.as_str()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Scope;
    use crate::auth::lifecycle::Sources;
    use crate::service::input::{parse_network, parse_time};
    use ipnet::IpNet;

    fn time(text: &str) -> NaiveDateTime {
        parse_time(text).unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|t| parse_network(t).unwrap()).collect()
    }

    /// `scim:read scim:write tokens:manage`, expiring, allowlisted, 5 requests per minute.
    fn bounded() -> Permissions {
        Permissions {
            scopes: Scopes::parse("scim:read scim:write tokens:manage").unwrap(),
            expires_at: Some(time("2027-01-02")),
            restrictions: Restrictions {
                network: Network::allowlist(nets(&["10.0.0.0/8", "2001:db8::/32"])),
                rate_limit_per_minute: Some(5),
            },
        }
    }

    fn unbounded(scopes: Scopes) -> Permissions {
        Permissions {
            scopes,
            expires_at: None,
            restrictions: Restrictions::default(),
        }
    }

    fn refusal(holder: &Permissions, requested: &Permissions) -> String {
        match check_within(holder, requested) {
            Err(Error::Forbidden(detail)) => detail,
            other => panic!("expected 403, got {other:?}"),
        }
    }

    #[test]
    fn a_token_may_grant_exactly_itself_or_anything_tighter() {
        let holder = bounded();
        assert!(check_within(&holder, &holder).is_ok());
        let tighter = Permissions {
            scopes: Scopes::default().with(Scope::ScimRead),
            expires_at: Some(time("2027-01-01")),
            restrictions: Restrictions {
                network: Network::allowlist(nets(&["10.1.0.0/16", "2001:db8::1"])),
                rate_limit_per_minute: Some(1),
            },
        };
        assert!(check_within(&holder, &tighter).is_ok());
    }

    #[test]
    fn scopes_must_be_held() {
        let requested = Permissions {
            scopes: Scopes::SCIM,
            ..bounded()
        };
        assert!(refusal(&bounded(), &requested).contains("'scim:delete'"));
        let manage = Scopes::default().with(Scope::TokensManage);
        assert!(check_grantable(manage, Scopes::SCIM).is_err());
        assert!(check_grantable(Scopes::SCIM.with(Scope::TokensManage), Scopes::SCIM).is_ok());
    }

    #[test]
    fn expiry_must_come_no_later_and_never_is_later_than_any() {
        for expires_at in [None, Some(time("2027-01-02T00:00:01Z"))] {
            let requested = Permissions {
                expires_at,
                ..bounded()
            };
            let detail = refusal(&bounded(), &requested);
            assert!(
                detail.starts_with("expires_at:") && detail.contains("2027-01-02T00:00:00Z"),
                "{detail}"
            );
        }
        let expiring = Permissions {
            expires_at: Some(time("2030-01-01")),
            ..unbounded(Scopes::SCIM)
        };
        assert!(check_within(&unbounded(Scopes::SCIM), &expiring).is_ok());
    }

    #[test]
    fn an_allowlist_must_stay_inside_the_holders() {
        let with = |list: &[&str]| Permissions {
            restrictions: Restrictions {
                network: Network::allowlist(nets(list)),
                rate_limit_per_minute: Some(5),
            },
            ..bounded()
        };
        assert!(refusal(&bounded(), &with(&[])).starts_with("allowed_cidrs:"));
        let detail = refusal(&bounded(), &with(&["10.0.0.0/8", "192.0.2.0/24"]));
        assert!(detail.contains("192.0.2.0/24 is outside"), "{detail}");
        assert!(refusal(&bounded(), &with(&["0.0.0.0/0"])).starts_with("allowed_cidrs:"));
        assert!(refusal(&bounded(), &with(&["2001:db8::/31"])).starts_with("allowed_cidrs:"));
        let anywhere = unbounded(bounded().scopes);
        assert!(check_within(&anywhere, &with(&["192.0.2.0/24"])).is_ok());
    }

    #[test]
    fn a_rate_limit_must_be_set_and_no_higher() {
        for rate_limit_per_minute in [None, Some(6)] {
            let requested = Permissions {
                restrictions: Restrictions {
                    rate_limit_per_minute,
                    ..bounded().restrictions
                },
                ..bounded()
            };
            let detail = refusal(&bounded(), &requested);
            assert!(detail.starts_with("rate_limit_per_minute:"), "{detail}");
        }
    }

    fn only(cidrs: &[&str], zones: &[&str]) -> Network {
        Network::OnlyFrom(sources(cidrs, zones))
    }

    fn not(cidrs: &[&str], zones: &[&str]) -> Network {
        Network::NotFrom(sources(cidrs, zones))
    }

    fn sources(cidrs: &[&str], zones: &[&str]) -> Sources {
        Sources {
            cidrs: nets(cidrs),
            zones: zones.iter().map(|zone| (*zone).to_owned()).collect(),
        }
    }

    fn network_refusal(holder: &Network, requested: &Network) -> Option<String> {
        match check_network(holder, requested) {
            Ok(()) => None,
            Err(Error::Forbidden(detail)) => Some(detail),
            Err(other) => panic!("expected 403, got {other:?}"),
        }
    }

    #[test]
    fn an_only_from_holder_grants_its_own_zones_and_cidrs_inside_its_own() {
        let holder = only(&["10.0.0.0/8"], &["Office"]);
        assert_eq!(network_refusal(&holder, &holder), None);
        assert_eq!(
            network_refusal(&holder, &only(&["10.1.0.0/16"], &["office"])),
            None
        );
        assert_eq!(network_refusal(&holder, &only(&[], &["Office"])), None);
        for requested in [
            Network::Any,
            not(&["192.0.2.0/24"], &[]),
            only(&["192.0.2.0/24"], &[]),
            // Covered by 10/8 today, but a zone can grow.
            only(&[], &["Branch"]),
        ] {
            let detail = network_refusal(&holder, &requested).unwrap();
            assert!(detail.starts_with("allowed_cidrs:"), "{detail}");
        }
        // A zone may cover 10.1/16 today and shrink tomorrow.
        let zone_only = only(&[], &["Office"]);
        assert!(network_refusal(&zone_only, &only(&["10.1.0.0/16"], &[])).is_some());
    }

    #[test]
    fn a_not_from_holder_grants_only_what_keeps_its_networks_out() {
        let holder = not(&["10.0.0.0/8"], &["Blocked"]);
        assert_eq!(network_refusal(&holder, &holder), None);
        assert_eq!(
            network_refusal(&holder, &not(&["0.0.0.0/0"], &["blocked", "Other"])),
            None
        );
        for requested in [
            Network::Any,
            not(&["10.0.0.0/8"], &[]),
            not(&["10.0.0.0/9"], &["Blocked"]),
            // Clear of 10/8, but the zone `Blocked` may come to hold 192.0.2/24.
            only(&["192.0.2.0/24"], &[]),
        ] {
            let detail = network_refusal(&holder, &requested).unwrap();
            assert!(detail.starts_with("not_from:"), "{detail}");
        }
        let cidrs_only = not(&["10.0.0.0/8"], &[]);
        assert_eq!(
            network_refusal(&cidrs_only, &only(&["192.0.2.0/24"], &[])),
            None
        );
        for overlapping in [&["10.1.0.0/16"][..], &["0.0.0.0/0"][..]] {
            assert!(network_refusal(&cidrs_only, &only(overlapping, &[])).is_some());
        }
        assert!(
            network_refusal(&cidrs_only, &only(&[], &["Elsewhere"])).is_some(),
            "a zone may come to overlap"
        );
    }

    #[test]
    fn an_unrestricted_holder_grants_any_network_rule() {
        for requested in [
            Network::Any,
            only(&[], &["Z"]),
            not(&["10.0.0.0/8"], &["Z"]),
        ] {
            assert_eq!(network_refusal(&Network::Any, &requested), None);
        }
    }
}
