//! Is this request really from Slack or Discord, and new? Pure: the
//! caller gives the headers' values, the raw body and the clock.
//!
//! - Slack: `X-Slack-Signature: v0=HEX`, the HMAC-SHA256 under the app's
//!   signing secret of `v0:{X-Slack-Request-Timestamp}:{body}`.
//! - Discord: `X-Signature-Ed25519: HEX`, an Ed25519 signature under the
//!   application's public key of `{X-Signature-Timestamp}{body}`, checked
//!   strictly (no malleable or small-order encodings).
//!
//! Both are refused when the timestamp is more than [`MAX_SKEW_S`] off
//! our clock, and [`Replays`] refuses a signature seen again inside that
//! window, so a captured request cannot be sent twice.

use std::collections::BTreeSet;

use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// How far a request's timestamp may be from the collector's clock
/// (either way): Slack's and Discord's advice, 5 minutes.
pub const MAX_SKEW_S: u64 = 300;
/// Signatures remembered per platform. Only verified requests are
/// remembered, so filling this takes more than this many genuine
/// commands within 5 minutes; past it the oldest is forgotten.
pub const REPLAYS_MAX: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no signature or timestamp header")]
    Missing,
    #[error("a malformed signature or timestamp header")]
    Malformed,
    #[error("the timestamp is more than 5 minutes off the collector's clock")]
    Stale,
    #[error("the signature does not match")]
    BadSignature,
    #[error("this request was seen before (a replay)")]
    Replayed,
}

/// A request whose signature is good: when it was signed, and the digest
/// of its signature that [`Replays`] remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub at_s: u64,
    pub key: [u8; 32],
}

fn timestamp(ts: &str, now_s: u64) -> Result<u64, Refused> {
    let t: u64 = ts.parse().map_err(|_| Refused::Malformed)?;
    if t.abs_diff(now_s) > MAX_SKEW_S {
        return Err(Refused::Stale);
    }
    Ok(t)
}

fn replay_key(signature: &[u8]) -> [u8; 32] {
    Sha256::digest(signature).into()
}

/// Checks a Slack request's signature. The MAC is compared in constant
/// time (`verify_slice`), so timing tells nothing of the expected value.
pub fn slack(
    secret: &[u8],
    ts: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_s: u64,
) -> Result<Verified, Refused> {
    let (Some(ts), Some(signature)) = (ts, signature) else {
        return Err(Refused::Missing);
    };
    let at_s = timestamp(ts, now_s)?;
    let hex_sig = signature.strip_prefix("v0=").ok_or(Refused::Malformed)?;
    let mut given = [0u8; 32];
    hex::decode_to_slice(hex_sig, &mut given).map_err(|_| Refused::Malformed)?;
    // HMAC takes a key of any length; an error here is impossible, but
    // is a refusal rather than a panic all the same.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| Refused::BadSignature)?;
    mac.update(b"v0:");
    mac.update(ts.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| Refused::BadSignature)?;
    Ok(Verified {
        at_s,
        key: replay_key(&given),
    })
}

/// Checks a Discord interaction's signature.
pub fn discord(
    key: &VerifyingKey,
    ts: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_s: u64,
) -> Result<Verified, Refused> {
    let (Some(ts), Some(signature)) = (ts, signature) else {
        return Err(Refused::Missing);
    };
    let at_s = timestamp(ts, now_s)?;
    let mut given = [0u8; 64];
    hex::decode_to_slice(signature, &mut given).map_err(|_| Refused::Malformed)?;
    let mut message = Vec::with_capacity(ts.len() + body.len());
    message.extend_from_slice(ts.as_bytes());
    message.extend_from_slice(body);
    key.verify_strict(&message, &Signature::from_bytes(&given))
        .map_err(|_| Refused::BadSignature)?;
    Ok(Verified {
        at_s,
        key: replay_key(&given),
    })
}

/// The signatures verified within the last [`MAX_SKEW_S`], by timestamp:
/// older ones need no memory, their timestamps refuse them already.
#[derive(Debug)]
pub struct Replays {
    seen: BTreeSet<(u64, [u8; 32])>,
    max: usize,
}

impl Replays {
    pub fn new(max: usize) -> Replays {
        Replays {
            seen: BTreeSet::new(),
            max: max.max(1),
        }
    }

    /// Remembers `v`; `Err(Replayed)` when it was already remembered.
    pub fn first_time(&mut self, v: Verified, now_s: u64) -> Result<(), Refused> {
        while let Some(&(t, _)) = self.seen.first()
            && t.saturating_add(MAX_SKEW_S) < now_s
        {
            self.seen.pop_first();
        }
        if !self.seen.insert((v.at_s, v.key)) {
            return Err(Refused::Replayed);
        }
        while self.seen.len() > self.max {
            self.seen.pop_first();
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
