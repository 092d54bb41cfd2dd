//! Every case, grouped by where it comes from. The ids follow the IdP dossier: `OKTA-*` are
//! Okta SPEC test steps and Okta reference requests, `ENTRA-*` Microsoft's examples and
//! compatibility notes, the rest the dossier's §4 catalogue ids (`A-`, `D-`, `U-`, `C-`,
//! `P-`, `G-`, `E-`) plus `X-` for RFC features the catalogue leaves out. The other IdPs'
//! cases follow `IDPS.md`: `OL-` OneLogin, `PING-` PingFederate/PingOne, `JC-` JumpCloud,
//! `AK-` authentik, `KC-` Keycloak, `GH-` GitHub-style clients.

mod authentik;
mod entra;
mod github;
mod groups;
mod jumpcloud;
mod keycloak;
mod okta;
mod onelogin;
mod patch;
mod ping;
mod protocol;
mod query;
mod users;

use crate::case::Case;

/// All cases, in run order.
pub fn all() -> Vec<Case> {
    [
        okta::CASES,
        entra::CASES,
        protocol::CASES,
        query::CASES,
        users::CASES,
        groups::CASES,
        patch::CASES,
        onelogin::CASES,
        ping::CASES,
        jumpcloud::CASES,
        authentik::CASES,
        keycloak::CASES,
        github::CASES,
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::case::Profile;

    #[test]
    fn case_ids_are_unique_and_every_case_has_a_profile_source_and_purpose() {
        let cases = all();
        let mut ids = HashSet::new();
        for case in &cases {
            assert!(ids.insert(case.id), "duplicate id {}", case.id);
            assert!(!case.profiles.is_empty(), "{} has no profile", case.id);
            assert!(
                !case.source.is_empty() && !case.purpose.is_empty(),
                "{}",
                case.id
            );
        }
    }

    #[test]
    fn every_profile_has_cases() {
        let cases = all();
        for profile in Profile::ALL {
            assert!(
                cases.iter().any(|case| case.profiles.contains(&profile)),
                "{} has no case",
                profile.name()
            );
        }
    }
}
