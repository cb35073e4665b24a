//! The one rule for names that become label values (worlds, notifiers,
//! agents' worlds in reports): 1–64 ASCII letters, digits, `-`, `_`, `.`.
//! Bounded and plain, so they are safe in Prometheus labels, URLs, file
//! names and log lines alike.

pub const MAX_NAME_LEN: usize = 64;

/// Whether `n` is a valid name.
pub fn is_valid(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= MAX_NAME_LEN
        && n.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Checks `n`; the error says what it was and what is allowed.
pub fn check(n: &str, what: &str) -> Result<(), String> {
    if is_valid(n) {
        Ok(())
    } else {
        Err(format!(
            "{what} `{}` must be 1–64 characters of letters, digits, `-`, `_` or `.`",
            n.escape_debug()
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        for ok in ["w1", "eu-1", "a.b_c", &"x".repeat(64)] {
            assert!(super::is_valid(ok), "{ok}");
        }
        for bad in ["", "eu 1", "é", "a/b", &"x".repeat(65), "a\nb"] {
            assert!(!super::is_valid(bad), "{bad}");
        }
        assert_eq!(
            super::check("eu 1", "world").unwrap_err(),
            "world `eu 1` must be 1–64 characters of letters, digits, `-`, `_` or `.`"
        );
    }
}
