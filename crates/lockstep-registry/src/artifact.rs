//! Downloading a release artifact and proving it is the one the metadata describes.

use std::io::Write;
use std::path::{Path, PathBuf};

use lockstep_manifest::{Artifact, Pos, Problem, ProblemKind};
use sha2::{Digest, Sha256};

use crate::cache::{hex, sync_dir};
use crate::fetch::Client;
use crate::url::Url;
use crate::{Error, Options};

/// Downloads `artifact` into `dest_dir` and returns the path of the verified file,
/// `dest_dir/NAME`.
///
/// The bytes go to a temp file in `dest_dir`; only when their size and sha256 equal the
/// metadata's is the file synced and renamed into place (replacing a file of that name). On
/// any failure the temp file is removed and nothing appears under the artifact's name. Reading
/// stops as soon as more bytes arrive than the metadata states.
///
/// The file is created like any temp file (mode 0600 on Unix); set other permissions after.
///
/// The URL follows the same rules as registry URLs (`https://`, or `http://` to loopback), and
/// the GitHub token is sent only if the artifact lives on the API host.
pub fn download_artifact(
    artifact: &Artifact,
    dest_dir: &Path,
    opts: &Options,
) -> Result<PathBuf, Error> {
    let span = tracing::info_span!("download_artifact", name = %artifact.name);
    let _entered = span.enter();
    check_name(artifact)?;
    let url = Url::parse(&artifact.url)?;
    let client = Client::new(opts);
    let mut tmp = tempfile::Builder::new()
        .prefix(".lockstep-download-")
        .tempfile_in(dest_dir)
        .map_err(|e| Error::io("create a temp file in", dest_dir, e))?;
    let mut hasher = Sha256::new();
    let tmp_path = tmp.path().to_owned();
    let received = client
        .download(&url, artifact.size, &mut |chunk| {
            hasher.update(chunk);
            tmp.write_all(chunk)
                .map_err(|e| Error::io("write", &tmp_path, e))
        })
        .map_err(|e| match e {
            Error::TooLarge { .. } => mismatch(
                artifact,
                &url,
                "size",
                format!("{} bytes", artifact.size),
                format!("more than {} bytes", artifact.size),
            ),
            other => other,
        })?;
    if received != artifact.size {
        return Err(mismatch(
            artifact,
            &url,
            "size",
            format!("{} bytes", artifact.size),
            format!("{received} bytes"),
        ));
    }
    let actual = hex(&hasher.finalize());
    if !actual.eq_ignore_ascii_case(&artifact.sha256) {
        return Err(mismatch(
            artifact,
            &url,
            "sha256",
            artifact.sha256.to_ascii_lowercase(),
            actual,
        ));
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("write", &tmp_path, e))?;
    let dest = dest_dir.join(&artifact.name);
    tmp.persist(&dest)
        .map_err(|e| Error::io("write", &dest, e.error))?;
    sync_dir(dest_dir);
    tracing::info!(path = %dest.display(), bytes = received, "artifact verified");
    Ok(dest)
}

fn mismatch(
    artifact: &Artifact,
    url: &Url,
    what: &'static str,
    expected: String,
    actual: String,
) -> Error {
    Error::Checksum {
        name: artifact.name.clone(),
        url: url.shown(),
        what,
        expected,
        actual,
    }
}

/// The name becomes a file name in `dest_dir`: it must not lead anywhere else.
fn check_name(artifact: &Artifact) -> Result<(), Error> {
    let name = artifact.name.as_str();
    let safe = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !name.starts_with(".lockstep-download-");
    if safe {
        return Ok(());
    }
    Err(Error::InvalidData {
        what: "artifact".into(),
        location: crate::url::redact(&artifact.url),
        problems: vec![Problem::new(
            Pos::UNKNOWN,
            "artifacts[].name",
            ProblemKind::Value,
            format!(
                "\"{name}\" is not a plain file name; expected a name without '/', '\\' or '..'"
            ),
        )],
    })
}
