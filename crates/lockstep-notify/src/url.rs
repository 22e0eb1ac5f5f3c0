//! The URL rule every lockstep fetch follows: `https://` anywhere, plain `http://` only to
//! loopback (`localhost`, 127.0.0.0/8, `::1`). The registry crate applies the same rule to
//! what it fetches; adapters do not share code, so this small check is written here again.

use std::net::IpAddr;

/// Checks a webhook URL; the error says what is accepted.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| format!("`{url}` is not a valid URL; expected https://HOST/PATH"))?;
    let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
    let host = uri
        .host()
        .map(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if host.is_empty() {
        return Err(format!("`{url}` has no host; expected https://HOST/PATH"));
    }
    match scheme.as_str() {
        "https" => Ok(()),
        "http" if is_loopback(&host) => Ok(()),
        "http" => Err(
            "plain http:// is allowed only to localhost, 127.0.0.0/8 and ::1; use https://"
                .to_owned(),
        ),
        _ => Err(format!(
            "`{url}`: only https:// (or http:// to loopback) is supported"
        )),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The URL without user info, for logs and the delivery log.
pub(crate) fn shown(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s && !url[s + 3..at].contains('/') => {
            format!("{}{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_rule() {
        for (url, ok) in [
            ("https://hooks.example.com/x", true),
            ("http://127.0.0.1:9/x", true),
            ("http://127.3.4.5/x", true),
            ("http://localhost/x", true),
            ("http://[::1]:8/x", true),
            ("http://10.0.0.1/x", false),
            ("http://example.com/x", false),
            ("ftp://127.0.0.1/x", false),
            ("not a url", false),
        ] {
            assert_eq!(check_url(url).is_ok(), ok, "{url}");
        }
        assert_eq!(shown("https://u:p@h/x"), "https://h/x");
        assert_eq!(shown("https://h/x?a@b"), "https://h/x?a@b");
    }
}
