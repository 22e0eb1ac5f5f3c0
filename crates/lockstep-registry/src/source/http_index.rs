//! A release index served over HTTPS (or plain HTTP on loopback).

use lockstep_manifest::{Release, ReleaseIndex};

use crate::fetch::Client;
use crate::source::file::not_utf8;
use crate::url::Url;
use crate::{Error, Options, ReleaseSource};

/// A `releases.json` at a URL, revalidated with `If-None-Match` when a cache is configured.
#[derive(Debug)]
pub struct HttpIndex {
    url: Url,
    client: Client,
}

impl HttpIndex {
    /// A source for `url`. The URL is checked here, before anything is contacted: it must be
    /// `https://`, or `http://` to a loopback host.
    pub fn new(url: &str, opts: &Options) -> Result<Self, Error> {
        Ok(HttpIndex {
            url: Url::parse(url)?,
            client: Client::new(opts),
        })
    }
}

impl ReleaseSource for HttpIndex {
    fn describe(&self) -> String {
        self.url.shown()
    }

    fn releases(&self) -> Result<Vec<Release>, Error> {
        let span = tracing::info_span!("read_index", url = %self.url.shown());
        let _entered = span.enter();
        let page = self.client.get(&self.url, "application/json")?;
        let invalid = |problems| Error::InvalidData {
            what: "release index".into(),
            location: self.url.shown(),
            problems,
        };
        let text = String::from_utf8(page.body)
            .map_err(|e| invalid(vec![not_utf8(e.utf8_error().valid_up_to())]))?;
        let index = ReleaseIndex::parse(&text).map_err(|e| invalid(e.problems))?;
        tracing::debug!(releases = index.releases.len(), "read release index");
        Ok(index.releases)
    }
}
