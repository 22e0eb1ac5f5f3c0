//! `lockstep rollout …` and `lockstep dashboard`: fleet updates, part 2.

use std::path::Path;

use clap::Args;

use crate::cli::Common;
use crate::out::{Failure, Out};

/// `RolloutArgs` arguments (not built yet).
#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(flatten)]
    pub common: Common,
}

impl RolloutArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, _cwd: &Path, _out: &Out) -> Result<u8, Failure> {
        Err(Failure::input("not_built", "this command is not built yet"))
    }
}

/// `DashboardArgs` arguments (not built yet).
#[derive(Debug, Args)]
pub struct DashboardArgs {
    #[command(flatten)]
    pub common: Common,
}

impl DashboardArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, _cwd: &Path, _out: &Out) -> Result<u8, Failure> {
        Err(Failure::input("not_built", "this command is not built yet"))
    }
}
