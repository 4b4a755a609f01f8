//! Rules for Dockerfiles and compose files.

use crate::rules::Rule;

pub static RULES: &[Rule] = &[];
