//! Signed webhook delivery for lockstep: HMAC-SHA256 signatures, retries with back-off and a
//! bounded total time, every attempt returned as data.
//!
//! The fleet workflow tells people what changed (a new upstream version, a lab verdict, a
//! promotion, a quarantine, a pin) by POSTing a JSON body to the webhooks of `notify.toml`.
//! This crate does the sending and nothing else:
//!
//! - [`Config::parse`] reads `notify.toml` (`[[webhook]]` with `url`, `secret` or
//!   `secret_env`, `events`) and says where a problem is (line, column, field) and what is
//!   accepted.
//! - [`deliver`] / [`deliver_all`] POST the body with `Content-Type: application/json` and the
//!   headers [`EVENT_HEADER`], [`TIMESTAMP_HEADER`] (Unix seconds) and [`SIGNATURE_HEADER`]
//!   (`sha256=HEX`, HMAC-SHA256 with the secret over `TIMESTAMP + "." + BODY`, see [`sign`]),
//!   so receivers can check the sender and refuse replays. A failed attempt (no connection, a
//!   timeout, a 5xx or 429) is retried after 1, 2, 4, 8 s…; a refusal such as 401 or 404 is
//!   not. The whole delivery ends by [`Policy::deadline`], so a receiver that hangs never
//!   holds the caller longer than that.
//! - The result is data ([`Delivery`] with each [`Attempt`]): the caller logs it (lockstep
//!   stores it in its state database for `notify log`). This crate never writes anywhere.
//!
//! Like `lockstep-registry`, this crate speaks HTTP (the only other one that does), under the
//! same rule: `https://` anywhere, plain `http://` only to loopback addresses; redirects are
//! not followed (a webhook that redirects is a failed attempt), and proxies are not used.
//!
//! # Limitations
//!
//! - Delivery is synchronous within the deadline; nothing is queued for later if the deadline
//!   passes (the failure is returned, and lockstep records it).
//! - The timestamp has whole-second precision.
//!
//! ## Examples
//!
//! ```
//! use lockstep_notify::{Config, sign, verify};
//!
//! let config = Config::parse(
//!     "[[webhook]]\nurl = \"https://hooks.example.com/lockstep\"\nsecret = \"s3cret\"\nevents = [\"promotion\"]\n",
//!     &["promotion", "quarantine"],
//!     |_| None,
//! )?;
//! let hook = &config.webhooks[0];
//! assert!(hook.wants("promotion") && !hook.wants("quarantine"));
//!
//! let body = br#"{"event":"promotion","component":"cli","version":"1.2.0"}"#;
//! let signature = sign(&hook.secret, 1_767_225_600, body);
//! assert!(verify(b"s3cret", 1_767_225_600, body, &signature));
//! assert!(!verify(b"s3cret", 1_767_225_601, body, &signature));
//! # Ok::<(), lockstep_notify::ConfigError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod deliver;
mod sign;
mod url;

pub use config::{Config, ConfigError, Webhook};
pub use deliver::{Attempt, Delivery, Policy, deliver, deliver_all};
pub use sign::{EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify};
