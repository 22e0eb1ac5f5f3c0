//! `lockstep watch|lab|known-good|pin|resolve|notify …`: fleet updates, part 1.

use std::path::Path;

use clap::Args;

use crate::cli::Common;
use crate::out::{Failure, Out};

/// `WatchArgs` arguments (not built yet).
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub common: Common,
}

impl WatchArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, _cwd: &Path, _out: &Out) -> Result<u8, Failure> {
        Err(Failure::input("not_built", "this command is not built yet"))
    }
}

/// `LabArgs` arguments (not built yet).
#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(flatten)]
    pub common: Common,
}

impl LabArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, _cwd: &Path, _out: &Out) -> Result<u8, Failure> {
        Err(Failure::input("not_built", "this command is not built yet"))
    }
}

/// `KnownGoodArgs` arguments (not built yet).
#[derive(Debug, Args)]
pub struct KnownGoodArgs {
    #[command(flatten)]
    pub common: Common,
}

impl KnownGoodArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, _cwd: &Path, _out: &Out) -> Result<u8, Failure> {
        Err(Failure::input("not_built", "this command is not built yet"))
    }
}

/// `PinArgs` arguments (not built yet).
#[derive(Debug, Args)]
pub struct PinArgs {
    #[command(flatten)]
    pub common: Common,
}

impl PinArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, _cwd: &Path, _out: &Out) -> Result<u8, Failure> {
        Err(Failure::input("not_built", "this command is not built yet"))
    }
}

/// `ResolveArgs` arguments (not built yet).
#[derive(Debug, Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    pub common: Common,
}

impl ResolveArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, _cwd: &Path, _out: &Out) -> Result<u8, Failure> {
        Err(Failure::input("not_built", "this command is not built yet"))
    }
}

/// `NotifyArgs` arguments (not built yet).
#[derive(Debug, Args)]
pub struct NotifyArgs {
    #[command(flatten)]
    pub common: Common,
}

impl NotifyArgs {
    pub fn common(&self) -> &Common {
        &self.common
    }

    pub fn run(self, _cwd: &Path, _out: &Out) -> Result<u8, Failure> {
        Err(Failure::input("not_built", "this command is not built yet"))
    }
}
