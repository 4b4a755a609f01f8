//! The rule catalogue: one entry per stable rule id. SARIF's `rules[]`, the
//! `--explain` text and the docs are generated from it, so a rule exists in
//! exactly one place. File rules live in `files.rs`, host rules in
//! `host.rs`, image rules in `image.rs`, Swarm rules in `swarm.rs`, the rule type in `rule.rs`; this
//! module joins them.

pub(crate) mod files;
pub(crate) mod host;
pub(crate) mod image;
mod rule;
pub(crate) mod swarm;

pub use rule::Rule;

/// Every rule, file rules first, sorted by id within each group.
pub fn catalogue() -> Vec<&'static Rule> {
    files::RULES
        .iter()
        .chain(host::RULES.iter())
        .chain(image::RULES.iter())
        .chain(swarm::RULES.iter())
        .collect()
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    catalogue().into_iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let all = catalogue();
        let mut ids: Vec<_> = all.iter().map(|r| r.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
        for r in all {
            assert!(
                r.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.id
            );
            assert!(!r.title.ends_with('.'), "{}", r.id);
            assert!(!r.help.is_empty(), "{}", r.id);
        }
    }
}
