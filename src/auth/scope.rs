//! What a credential may do.

use std::fmt;

/// One permission a token can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// GET and `.search` on SCIM resources.
    ScimRead,
    /// Create, replace and patch SCIM resources (including deactivation).
    ScimWrite,
    /// Hard-delete SCIM resources.
    ScimDelete,
    /// The token management API.
    TokensManage,
    /// Poll one event stream's SETs (RFC 8936): the credential of a poll stream.
    EventsRead,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::ScimRead,
        Scope::ScimWrite,
        Scope::ScimDelete,
        Scope::TokensManage,
        Scope::EventsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ScimRead => "scim:read",
            Scope::ScimWrite => "scim:write",
            Scope::ScimDelete => "scim:delete",
            Scope::TokensManage => "tokens:manage",
            Scope::EventsRead => "events:read",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == text)
    }

    fn bit(self) -> u8 {
        match self {
            Scope::ScimRead => 1,
            Scope::ScimWrite => 2,
            Scope::ScimDelete => 4,
            Scope::TokensManage => 8,
            Scope::EventsRead => 16,
        }
    }
}

/// A set of scopes, stored as a space-separated list.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// What a new token gets unless told otherwise, and what `AUTH_SECRET` carries.
    pub const SCIM: Scopes = Scopes(1 | 2 | 4);

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |scope| self.contains(*scope))
    }

    /// Parses a space- or comma-separated list; an unknown name is an error naming it.
    pub fn parse(text: &str) -> Result<Scopes, String> {
        text.split([' ', ','])
            .filter(|part| !part.is_empty())
            .try_fold(Scopes::default(), |scopes, part| {
                Scope::parse(part)
                    .map(|scope| scopes.with(scope))
                    .ok_or_else(|| {
                        format!(
                            "unknown scope '{part}' (known: {})",
                            Scope::ALL.map(Scope::as_str).join(", ")
                        )
                    })
            })
    }

    pub fn with(self, scope: Scope) -> Scopes {
        Scopes(self.0 | scope.bit())
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(Scopes::default(), Scopes::with)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scopes({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_text() {
        let scopes = Scopes::parse("scim:read,tokens:manage scim:write").unwrap();
        assert_eq!(scopes.to_string(), "scim:read scim:write tokens:manage");
        assert_eq!(Scopes::parse(&scopes.to_string()), Ok(scopes));
    }

    #[test]
    fn unknown_scope_is_named() {
        let error = Scopes::parse("scim:read scim:admin").unwrap_err();
        assert!(error.contains("'scim:admin'"), "{error}");
    }

    #[test]
    fn default_scim_scopes_exclude_token_management() {
        assert!(Scopes::SCIM.contains(Scope::ScimDelete));
        assert!(!Scopes::SCIM.contains(Scope::TokensManage));
    }
}
