//! A unit's stable bucket.

use sha2::{Digest, Sha256};

/// The domain tag hashed in front of every bucket input, so a bucket never collides with a
/// hash computed for another purpose over the same ids.
pub const DOMAIN: &[u8] = b"lockstep/rollout/v1\0";

/// The number of buckets: one per basis point (1 % = 100 buckets).
pub const BUCKETS: u16 = 10_000;

/// The unit's bucket in `0..10000`: the first 8 bytes (big-endian) of
/// SHA-256(`"lockstep/rollout/v1\0"` + `rollout_id` + `"\0"` + `unit`), modulo 10000.
///
/// The modulo bias is below 10⁻¹⁵ (2⁶⁴ is not a multiple of 10000 by a tiny remainder).
pub fn bucket(rollout_id: &str, unit: &str) -> u16 {
    let digest = Sha256::new()
        .chain_update(DOMAIN)
        .chain_update(rollout_id.as_bytes())
        .chain_update([0u8])
        .chain_update(unit.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let reduced = u64::from_be_bytes(first) % u64::from(BUCKETS);
    // The remainder is below 10000 by construction, so it fits.
    u16::try_from(reduced).unwrap_or(BUCKETS - 1)
}
