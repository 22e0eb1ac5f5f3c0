//! A raw TCP server for what tiny_http cannot do: a body cut short, then the connection closed.

#[allow(unused_imports)]
use super::*;

/// A loopback server for connection-level faults: on every connection it reads the request head,
/// writes the scripted bytes verbatim and closes the connection.
///
/// [`RawServer::truncated`] builds the classic one: a `Content-Length` larger than the body
/// that follows, then the connection closes.
///
/// ```
/// use lockstep_testkit::http::RawServer;
///
/// let server = RawServer::truncated(b"{\"schema\": 1, \"rele", 1000);
/// assert!(server.url("/releases.json").starts_with("http://127.0.0.1:"));
/// assert_eq!(server.connections(), 0);
/// ```
#[derive(Debug)]
pub struct RawServer {
    base: String,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    /// Starts a server that answers every connection with `response` (status line, headers and
    /// body, exactly as given) and then closes it.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub fn start(response: impl Into<Vec<u8>>) -> Self {
        let response = response.into();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port can be bound");
        let port = listener
            .local_addr()
            .expect("a bound listener has an address")
            .port();
        listener
            .set_nonblocking(true)
            .expect("a listener can be made non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let (thread_stop, thread_connections) = (Arc::clone(&stop), Arc::clone(&connections));
        let thread = thread::Builder::new()
            .name("testkit-raw-http".into())
            .spawn(move || {
                let started = Instant::now();
                while !thread_stop.load(Ordering::SeqCst) && started.elapsed() < LIFETIME {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            thread_connections.fetch_add(1, Ordering::SeqCst);
                            let _ = stream.set_nonblocking(false);
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                            let _ = read_head(&mut stream);
                            let _ = stream.write_all(&response);
                            let _ = stream.flush();
                            let _ = stream.shutdown(Shutdown::Both);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL),
                        Err(_) => break,
                    }
                }
            })
            .expect("a thread can be spawned");
        RawServer {
            base: format!("http://127.0.0.1:{port}"),
            stop,
            connections,
            thread: Some(thread),
        }
    }

    /// A `200 OK` whose `Content-Length` says `announced` bytes but whose body is `body`
    /// (shorter), after which the connection closes.
    pub fn truncated(body: &[u8], announced: usize) -> Self {
        let mut response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\n\r\n"
        )
        .into_bytes();
        response.extend_from_slice(body);
        RawServer::start(response)
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads up to the blank line that ends a request head (a GET has no body).
fn read_head(stream: &mut impl Read) -> io::Result<()> {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") && seen.len() < 64 * 1024 {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        seen.push(byte[0]);
    }
    Ok(())
}
