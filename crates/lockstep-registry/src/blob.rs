//! Fetching documents and files that are not releases: a pack index (`packs.json`) and a pack
//! archive checked against the sha256 its index gives, under the same URL rules, timeouts and
//! body caps as registry fetches.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::cache::sync_dir;
use crate::fetch::Client;
use crate::url::Url;
use crate::{Error, Options};

/// GETs the document at `url` (`https://`, or `http://` to loopback) and returns its body,
/// at most [`Options::max_body_bytes`]; with [`Options::cache_dir`] set, revalidated by ETag.
pub fn fetch_document(url: &str, opts: &Options) -> Result<Vec<u8>, Error> {
    let url = Url::parse(url)?;
    Ok(Client::new(opts).get(&url, "application/json")?.body)
}

/// Downloads `url` into the file `dest` and checks the bytes' sha256 against `sha256` (hex).
///
/// The bytes go to a temp file beside `dest`; only when the checksum matches is it synced and
/// renamed to `dest`, so on any failure nothing appears there. At most
/// [`Options::max_body_bytes`] are read. Returns the number of bytes.
pub fn download_checked(
    url: &str,
    sha256: &str,
    dest: &Path,
    opts: &Options,
) -> Result<u64, Error> {
    let _span = tracing::info_span!("download_checked", url = %crate::url::redact(url)).entered();
    let parsed = Url::parse(url)?;
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".lockstep-download-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temp file in", dir, e))?;
    let tmp_path = tmp.path().to_owned();
    let mut hasher = Sha256::new();
    let received = Client::new(opts).download(&parsed, opts.max_body_bytes, &mut |chunk| {
        hasher.update(chunk);
        tmp.write_all(chunk)
            .map_err(|e| Error::io("write", &tmp_path, e))
    })?;
    let actual = lockstep_state::hex::encode(&hasher.finalize());
    if !actual.eq_ignore_ascii_case(sha256.trim()) {
        return Err(Error::Checksum {
            name: dest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            url: parsed.shown(),
            what: "sha256",
            expected: sha256.trim().to_ascii_lowercase(),
            actual,
        });
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("write", &tmp_path, e))?;
    tmp.persist(dest)
        .map_err(|e| Error::io("write", dest, e.error))?;
    sync_dir(dir);
    Ok(received)
}
