//! Bearer tokens and roles.
//!
//! Tokens are kept only as SHA-256 hashes. A presented token is hashed and
//! compared with every configured hash in constant time (no early exit on
//! the first match either), so timing says nothing about which tokens exist.

use liveops_config::{Role, TokenEntry};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who made a request, once authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug, Default)]
pub struct Tokens {
    entries: Vec<TokenEntry>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No token, or one that matches nothing: 401.
    Unauthenticated,
    /// A valid token whose role is too low: 403.
    Forbidden { have: Role, need: Role },
}

impl Tokens {
    pub fn new(entries: Vec<TokenEntry>) -> Self {
        Self { entries }
    }

    /// Adds a token given in plain text (the environment, the demo).
    pub fn add_plain(&mut self, name: &str, role: Role, token: &str) {
        self.entries.push(TokenEntry {
            name: name.to_owned(),
            role,
            sha256: hash(token),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Checks an `Authorization` header value against the needed role.
    pub fn check(&self, authorization: Option<&str>, need: Role) -> Result<Caller, AuthError> {
        let token = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Unauthenticated)?;
        let presented = hash(token);
        let mut found: Option<&TokenEntry> = None;
        for e in &self.entries {
            if bool::from(e.sha256.ct_eq(&presented)) && found.is_none() {
                found = Some(e);
            }
        }
        let entry = found.ok_or(AuthError::Unauthenticated)?;
        if entry.role.allows(need) {
            Ok(Caller {
                name: entry.name.clone(),
                role: entry.role,
            })
        } else {
            Err(AuthError::Forbidden {
                have: entry.role,
                need,
            })
        }
    }
}

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_tokens() {
        let mut t = Tokens::default();
        t.add_plain("agents", Role::Agent, "a-secret");
        t.add_plain("oncall", Role::Responder, "r-secret");
        t.add_plain("root", Role::Admin, "x-secret");
        let cases: &[(Option<&str>, Role, Result<&str, AuthError>)] = &[
            (None, Role::Agent, Err(AuthError::Unauthenticated)),
            (
                Some("Bearer nope"),
                Role::Viewer,
                Err(AuthError::Unauthenticated),
            ),
            (
                Some("a-secret"),
                Role::Agent,
                Err(AuthError::Unauthenticated),
            ),
            (Some("Bearer a-secret"), Role::Agent, Ok("agents")),
            (
                Some("Bearer a-secret"),
                Role::Viewer,
                Err(AuthError::Forbidden {
                    have: Role::Agent,
                    need: Role::Viewer,
                }),
            ),
            (Some("Bearer r-secret"), Role::Viewer, Ok("oncall")),
            (
                Some("Bearer r-secret"),
                Role::Agent,
                Err(AuthError::Forbidden {
                    have: Role::Responder,
                    need: Role::Agent,
                }),
            ),
            (
                Some("Bearer r-secret"),
                Role::Admin,
                Err(AuthError::Forbidden {
                    have: Role::Responder,
                    need: Role::Admin,
                }),
            ),
            (Some("Bearer x-secret"), Role::Agent, Ok("root")),
        ];
        for (header, need, want) in cases {
            let got = t.check(*header, *need).map(|c| c.name);
            assert_eq!(
                got.as_deref().map_err(|e| format!("{e:?}")),
                want.as_ref().map(|s| *s).map_err(|e| format!("{e:?}")),
                "{header:?} {need:?}"
            );
        }
    }
}
