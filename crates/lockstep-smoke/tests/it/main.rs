//! Integration tests of lockstep-smoke with real processes: scripts written into temp dirs.
#![cfg(unix)]

mod env;
mod outcomes;
mod output;
mod parallel;
mod timeout;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Writes an executable `#!/bin/sh` script.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("script dir");
    }
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// Whether process `pid` has exited (gone, or a zombie nobody reaped yet).
pub fn is_gone(pid: i32) -> bool {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    match kill(Pid::from_raw(pid), None) {
        Err(Errno::ESRCH) => true,
        _ => {
            // Exists: gone only if it is a zombie.
            match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Ok(stat) => {
                    stat.rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_ascii_whitespace().next())
                        == Some("Z")
                }
                Err(_) => false,
            }
        }
    }
}

/// Reads a pid a script wrote.
pub fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .expect("pid file")
        .trim()
        .parse()
        .expect("a pid")
}
