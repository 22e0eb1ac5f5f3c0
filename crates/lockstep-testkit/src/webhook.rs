//! A webhook receiver on `127.0.0.1` that checks lockstep's signatures, for notification tests.
//!
//! [`Receiver::start`] binds a free loopback port and records every POST: its headers, body,
//! whether the `X-Lockstep-Signature` is right for the secret (computed here with a
//! hand-written HMAC-SHA256 over `sha2`, independent of the code under test) and the status it
//! answered. It answers 401 to a bad signature; [`Receiver::fail_first`] makes it answer a
//! status (such as 500) to the first N requests, and [`Receiver::hang`] makes it never answer
//! (until it is dropped). It stops when dropped and after [`crate::http::LIFETIME`].
//!
//! ```
//! use lockstep_testkit::webhook::{Receiver, hmac_sha256_hex};
//!
//! let hook = Receiver::start("s3cret");
//! assert!(hook.url().starts_with("http://127.0.0.1:"));
//! assert!(hook.received().is_empty());
//! assert_eq!(hmac_sha256_hex(b"key", b"msg").len(), 64);
//! ```

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::http::LIFETIME;

/// One POST the receiver got.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Received {
    /// Request headers, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Whether the signature matched the secret, the timestamp and the body.
    pub signature_ok: bool,
    /// The status answered (0 when it hung).
    pub status: u16,
    /// When it arrived, from the receiver's start.
    pub after: Duration,
}

impl Received {
    /// A header's value (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the webhook body is JSON")
    }
}

struct Script {
    fail_first: usize,
    fail_status: u16,
    hang: bool,
}

/// A signature-checking webhook receiver; see the [module documentation](self).
pub struct Receiver {
    base: String,
    secret: Vec<u8>,
    log: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Starts a receiver that checks signatures made with `secret`.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub fn start(secret: &str) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a loopback port"));
        let port = server
            .server_addr()
            .to_ip()
            .expect("a TCP server has an IP address")
            .port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(Script {
            fail_first: 0,
            fail_status: 500,
            hang: false,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let (t_server, t_log, t_script, t_stop) = (
            Arc::clone(&server),
            Arc::clone(&log),
            Arc::clone(&script),
            Arc::clone(&stop),
        );
        let secret_bytes = secret.as_bytes().to_vec();
        let key = secret_bytes.clone();
        let thread = thread::Builder::new()
            .name("testkit-webhook".into())
            .spawn(move || {
                let started = Instant::now();
                while !t_stop.load(Ordering::SeqCst) && started.elapsed() < LIFETIME {
                    let Ok(Some(mut request)) = t_server.recv_timeout(Duration::from_millis(20))
                    else {
                        continue;
                    };
                    let headers: Vec<(String, String)> = request
                        .headers()
                        .iter()
                        .map(|h| {
                            (
                                h.field.as_str().as_str().to_ascii_lowercase(),
                                h.value.as_str().to_owned(),
                            )
                        })
                        .collect();
                    let mut body = Vec::new();
                    let _ = request.as_reader().take(1 << 20).read_to_end(&mut body);
                    let find =
                        |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                    let signature_ok =
                        match (find("x-lockstep-timestamp"), find("x-lockstep-signature")) {
                            (Some(ts), Some(sig)) => {
                                let mut message = ts.into_bytes();
                                message.push(b'.');
                                message.extend_from_slice(&body);
                                sig == format!("sha256={}", hmac_sha256_hex(&key, &message))
                            }
                            _ => false,
                        };
                    let n = served.fetch_add(1, Ordering::SeqCst);
                    let (hang, status) = {
                        let s = t_script.lock().unwrap_or_else(|p| p.into_inner());
                        let status = if !signature_ok {
                            401
                        } else if n < s.fail_first {
                            s.fail_status
                        } else {
                            200
                        };
                        (s.hang, status)
                    };
                    t_log
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(Received {
                            headers,
                            body,
                            signature_ok,
                            status: if hang { 0 } else { status },
                            after: started.elapsed(),
                        });
                    if hang {
                        // Hold the request unanswered on a thread until the receiver stops.
                        let stop = Arc::clone(&t_stop);
                        let _ = thread::Builder::new().spawn(move || {
                            while !stop.load(Ordering::SeqCst) {
                                thread::sleep(Duration::from_millis(20));
                            }
                            drop(request);
                        });
                        continue;
                    }
                    let _ = request
                        .respond(tiny_http::Response::from_string("ok").with_status_code(status));
                }
            })
            .expect("a thread can be spawned");
        Receiver {
            base: format!("http://127.0.0.1:{port}"),
            secret: secret_bytes,
            log,
            script,
            stop,
            server,
            thread: Some(thread),
        }
    }

    /// Answers `status` to the first `n` requests (with a valid signature), then 200.
    pub fn fail_first(self, n: usize, status: u16) -> Self {
        {
            let mut s = self.script.lock().unwrap_or_else(|p| p.into_inner());
            s.fail_first = n;
            s.fail_status = status;
        }
        self
    }

    /// Never answers.
    pub fn hang(self) -> Self {
        self.script.lock().unwrap_or_else(|p| p.into_inner()).hang = true;
        self
    }

    /// The URL to configure: `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("{}/hook", self.base)
    }

    /// The secret it checks against.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// Every POST so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` with `key`, lower-case hex; written out here so the
/// tests check lockstep's signatures against an implementation of their own.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut k = if key.len() > BLOCK {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(BLOCK, 0);
    let mut inner = Sha256::new();
    inner.update(k.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.iter().map(|b| b ^ 0x5c).collect::<Vec<u8>>());
    outer.update(inner);
    outer
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
