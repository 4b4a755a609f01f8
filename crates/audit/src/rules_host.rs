//! Rules for the daemon and for containers on a live host.

use crate::rules::Rule;

pub static RULES: &[Rule] = &[];
