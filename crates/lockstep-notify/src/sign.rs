//! The signature: HMAC-SHA256 with the webhook's secret over `TIMESTAMP + "." + BODY`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header that carries the signature, `sha256=HEX`.
pub const SIGNATURE_HEADER: &str = "X-Lockstep-Signature";
/// The header that carries the signing time, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-Lockstep-Timestamp";
/// The header that names the event.
pub const EVENT_HEADER: &str = "X-Lockstep-Event";

/// The `X-Lockstep-Signature` value for `body` sent at `timestamp` (Unix seconds):
/// `sha256=` and the lower-case hex HMAC-SHA256 of `"{timestamp}.{body}"` keyed with `secret`.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in tag.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether `signature` (a header value) is the right one for `body` sent at `timestamp`,
/// compared in constant time. A receiver should also refuse timestamps far from its clock.
pub fn verify(secret: &[u8], timestamp: u64, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(tag) = decode_hex(hex) else {
        return false;
    };
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_an_independent_hmac_and_verify() {
        // Expected value from Python's hmac module: hmac.new(b"Jefe",
        // b"0.what do ya want for nothing?", hashlib.sha256).hexdigest()
        let sig = sign(b"Jefe", 0, b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
        assert!(verify(b"Jefe", 0, b"what do ya want for nothing?", &sig));
        assert!(!verify(b"Jeff", 0, b"what do ya want for nothing?", &sig));
        assert!(!verify(b"Jefe", 1, b"what do ya want for nothing?", &sig));
        assert!(!verify(b"Jefe", 0, b"what do ya want for nothing!", &sig));
        assert!(!verify(b"Jefe", 0, b"x", "sha1=00"));
        assert!(!verify(b"Jefe", 0, b"x", "sha256=zz"));
    }
}
