//! Every case, grouped by where it comes from. The ids follow the IdP dossier: `OKTA-*` are
//! Okta SPEC test steps and Okta reference requests, `ENTRA-*` Microsoft's examples and
//! compatibility notes, the rest the dossier's §4 catalogue ids (`A-`, `D-`, `U-`, `C-`,
//! `P-`, `G-`, `E-`) plus `X-` for RFC features the catalogue leaves out.

mod entra;
mod groups;
mod okta;
mod patch;
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
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

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
}
