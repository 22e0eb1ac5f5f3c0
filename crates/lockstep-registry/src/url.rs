//! URL checks done before any connection: scheme, host, the loopback rule for plain `http://`,
//! redirect targets, and redaction of credentials for messages.

use std::net::{IpAddr, Ipv6Addr};

use ureq::http::Uri;

use crate::Error;

/// A URL lockstep may fetch: `https://` anywhere, `http://` to loopback only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// The URL as it will be requested.
    text: String,
    /// `http` or `https`, lowercase.
    scheme: String,
    /// The host, lowercase, without IPv6 brackets.
    host: String,
    /// The explicit port, or the scheme's default.
    port: u16,
}

impl Url {
    /// Parses `text` and applies the rules; nothing is connected to.
    pub(crate) fn parse(text: &str) -> Result<Url, Error> {
        let bad = |reason| Error::BadUrl {
            url: redact(text),
            reason,
        };
        let uri: Uri = text.parse().map_err(|_| bad("not a valid URL"))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| bad("an absolute http:// or https:// URL is needed"))?
            .to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return Err(bad("only http:// and https:// are supported")),
        };
        let authority = uri.authority().ok_or_else(|| bad("the URL has no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad("the URL has no host"));
        }
        if scheme == "http" && !is_loopback(&host) {
            return Err(Error::InsecureUrl { url: redact(text) });
        }
        Ok(Url {
            text: text.to_owned(),
            port: authority.port_u16().unwrap_or(default_port),
            scheme,
            host,
        })
    }

    /// The URL as it will be requested.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL for messages and logs, without any user info.
    pub(crate) fn shown(&self) -> String {
        redact(&self.text)
    }

    /// Whether the host is loopback (such URLs never go through a proxy).
    pub(crate) fn is_loopback(&self) -> bool {
        is_loopback(&self.host)
    }

    /// Whether `other` has the same scheme, host and port (the same origin).
    pub(crate) fn same_origin(&self, other: &Url) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port == other.port
    }

    /// Resolves a `Location` header against this URL and checks the result.
    pub(crate) fn join(&self, location: &str) -> Result<Url, Error> {
        let location = location.trim();
        if location.contains("://") {
            return Url::parse(location);
        }
        let origin = match (self.scheme.as_str(), self.port) {
            ("https", 443) | ("http", 80) => format!("{}://{}", self.scheme, self.host_for_url()),
            _ => format!("{}://{}:{}", self.scheme, self.host_for_url(), self.port),
        };
        let joined = if let Some(rest) = location.strip_prefix("//") {
            format!("{}://{rest}", self.scheme)
        } else if location.starts_with('/') {
            format!("{origin}{location}")
        } else {
            let path = self.path();
            let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
            format!(
                "{origin}{}{location}",
                if dir.is_empty() { "/" } else { dir }
            )
        };
        Url::parse(&joined)
    }

    fn host_for_url(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// The path, without the query.
    fn path(&self) -> &str {
        let after_scheme = self.text.split_once("://").map_or("", |(_, r)| r);
        let path_and_query = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
        path_and_query.split(['?', '#']).next().unwrap_or_default()
    }
}

/// Whether `host` is `localhost`, in 127.0.0.0/8 or `::1`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => ip == Ipv6Addr::LOCALHOST,
        Err(_) => false,
    }
}

/// `url` without user info (`https://user:pass@host/…` → `https://host/…`), for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn loopback_rule() {
        for (url, expected) in [
            ("https://example.com/releases.json", Ok(())),
            ("https://93.184.216.34/x", Ok(())),
            ("http://localhost:8080/x", Ok(())),
            ("http://LOCALHOST./x", Ok(())),
            ("http://127.0.0.1:1/x", Ok(())),
            ("http://127.255.0.9/x", Ok(())),
            ("http://[::1]:9/x", Ok(())),
            ("http://example.com/x", Err(ErrorKind::InsecureUrl)),
            (
                "http://127.0.0.1.example.com/x",
                Err(ErrorKind::InsecureUrl),
            ),
            (
                "http://127.0.0.1@example.com/x",
                Err(ErrorKind::InsecureUrl),
            ),
            (
                "http://localhost.example.com/x",
                Err(ErrorKind::InsecureUrl),
            ),
            ("http://[::2]/x", Err(ErrorKind::InsecureUrl)),
            ("http://10.0.0.1/x", Err(ErrorKind::InsecureUrl)),
            ("http://0x7f000001/x", Err(ErrorKind::InsecureUrl)),
            ("HTTP://example.com/x", Err(ErrorKind::InsecureUrl)),
            ("ftp://example.com/x", Err(ErrorKind::InvalidSpec)),
            ("/just/a/path", Err(ErrorKind::InvalidSpec)),
            ("https://", Err(ErrorKind::InvalidSpec)),
        ] {
            assert_eq!(
                Url::parse(url).map(|_| ()).map_err(|e| e.kind()),
                expected,
                "{url}"
            );
        }
    }

    #[test]
    fn redirects_resolve_against_the_current_url() {
        let base =
            Url::parse("https://api.example.com:8443/repos/o/r/releases?page=1").expect("valid");
        for (location, expected) in [
            ("https://cdn.example.com/a", "https://cdn.example.com/a"),
            ("//cdn.example.com/a", "https://cdn.example.com/a"),
            ("/b?x=1", "https://api.example.com:8443/b?x=1"),
            ("c", "https://api.example.com:8443/repos/o/r/c"),
        ] {
            assert_eq!(base.join(location).expect(location).as_str(), expected);
        }
        let plain = Url::parse("http://127.0.0.1:5/a/b").expect("valid");
        assert_eq!(
            plain.join("http://example.com/x").map_err(|e| e.kind()),
            Err(ErrorKind::InsecureUrl)
        );
        assert_eq!(
            plain.join("//example.com/x").map_err(|e| e.kind()),
            Err(ErrorKind::InsecureUrl)
        );
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let api = Url::parse("https://api.example.com/").expect("valid");
        for (url, same) in [
            ("https://api.example.com:443/repos", true),
            ("https://API.example.com/x", true),
            ("http://localhost/x", false),
            ("https://api.example.com:444/x", false),
            ("https://uploads.example.com/x", false),
        ] {
            assert_eq!(api.same_origin(&Url::parse(url).expect(url)), same, "{url}");
        }
    }

    #[test]
    fn redaction_removes_user_info_only() {
        for (url, expected) in [
            ("https://u:p@host/x?y=1", "https://host/x?y=1"),
            ("https://host/a@b", "https://host/a@b"),
            ("https://host", "https://host"),
        ] {
            assert_eq!(redact(url), expected);
        }
    }
}
