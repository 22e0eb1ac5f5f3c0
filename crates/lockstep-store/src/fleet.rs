//! The fleet workflow's tables (migration `0002_fleet.sql`, documented in
//! `docs/state-db.md`, section "Fleet") and the queries on them.
//!
//! Functions take a [`Connection`] so that a caller can run several of them in one
//! transaction (a `rusqlite::Transaction` dereferences to a connection): a promotion and its
//! pending audit record ([`outbox_put`]) commit together or not at all. The only function that
//! opens a transaction itself is [`record_versions`], which must be atomic on its own.
//!
//! Times are RFC 3339 text; a pin's expiry is Unix seconds, so `resolve` compares integers.

mod deliveries;
mod lab;
mod pins;
mod registry;
mod watches;

pub use deliveries::*;
pub use lab::*;
pub use pins::*;
pub use registry::*;
pub use watches::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("state.db")).expect("open");
        (dir, store)
    }

    #[test]
    fn versions_are_recorded_once() {
        let (_d, mut s) = store();
        assert!(add_watch(s.conn(), "npm:x", "npm", "x", "t").expect("add"));
        assert!(!add_watch(s.conn(), "npm:x", "npm", "x", "t").expect("add"));
        let v = |n: &str| SeenVersion::new("npm:x", n, false, None, "u", "t");
        let first = record_versions(s.conn_mut(), &[v("1.0.0"), v("1.1.0")]).expect("rec");
        assert_eq!(first.len(), 2);
        let second = record_versions(s.conn_mut(), &[v("1.1.0"), v("1.2.0")]).expect("rec");
        assert_eq!(second, vec![v("1.2.0")]);
        assert_eq!(versions(s.conn(), "npm:x").expect("list").len(), 3);
    }

    #[test]
    fn channel_order_skips_quarantined_versions() {
        let (_d, s) = store();
        let c = s.conn();
        for v in ["1.0.0", "1.1.0", "1.2.0"] {
            promote(c, "cli", "stable", v, "ana", None, "t").expect("promote");
        }
        assert_eq!(
            channel_versions(c, "cli", "stable", 2).expect("q"),
            ["1.2.0", "1.1.0"]
        );
        quarantine(c, "cli", "1.2.0", "crashes", "ana", "t").expect("q");
        quarantine(c, "cli", "9.9.9", "bad", "ana", "t").expect("q");
        assert_eq!(
            channel_versions(c, "cli", "stable", 2).expect("q"),
            ["1.1.0", "1.0.0"]
        );
        let all = known_good(c, None).expect("list");
        assert_eq!(all.len(), 4);
        assert_eq!(all.iter().filter(|k| k.quarantine.is_some()).count(), 2);
        assert_eq!(known_good(c, Some("stable")).expect("list").len(), 3);
    }
}
