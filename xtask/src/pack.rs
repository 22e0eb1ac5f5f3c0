//! `lockstep pack …`: add-on packs.

use std::path::Path;

use clap::Args;

use crate::cli::Common;
use crate::out::{Failure, Out};

/// `PackArgs` arguments (not built yet).
#[derive(Debug, Args)]
pub struct PackArgs {
    #[command(flatten)]
    pub common: Common,
}

impl PackArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, _cwd: &Path, _out: &Out) -> Result<u8, Failure> {
        Err(Failure::input("not_built", "this command is not built yet"))
    }
}

/// `recover --home DIR` (not built yet).
pub fn recover_home(_home: &Path, _out: &Out) -> Result<u8, Failure> {
    Err(Failure::input(
        "not_built",
        "recover --home is not built yet",
    ))
}
