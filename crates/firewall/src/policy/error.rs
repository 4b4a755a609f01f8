//! The one error of policy input: a bad label (one container's problem)
//! or a bad file (nothing applied), each a line naming what to fix.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// `owner` is `container NAME` or `service NAME`.
    #[error("{owner}: label {label}={value}: {problem}. {fix}")]
    Label {
        owner: String,
        label: String,
        value: String,
        problem: String,
        fix: &'static str,
    },
    #[error("network {network}: label {label}={value}: {problem}. Use true or false")]
    NetworkLabel {
        network: String,
        label: String,
        value: String,
        problem: String,
    },
    #[error("policy file {path}: {message}. See docs/firewall.md for the format")]
    File { path: String, message: String },
}

pub(crate) const EXPOSE_FIX: &str = "Use public, local, deny, or a comma-separated list of addresses or CIDRs such as 192.0.2.0/24,2001:db8::/48";
