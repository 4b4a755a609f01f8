//! Host set-up front end: CIS Docker Benchmark sections 1 and 6 in
//! docker-bench-security's numbering: the data root on its own partition,
//! who is in the docker group, audit rules for Docker's files, and image
//! and container sprawl.
//!
//! Audit rules are matched by exact path (`-w /etc/docker` does not cover
//! `/etc/docker/daemon.json`, and a rule for `containerd-shim-runc-v2`
//! does not cover `containerd`), where docker-bench-security matches
//! substrings and so passes paths no rule watches. Only paths that exist
//! on this host are asked for.

use crate::rules::host::{
    HOST_AUDIT_RULES, HOST_CONTAINER_SPRAWL, HOST_DATA_ROOT_PARTITION, HOST_DOCKER_GROUP,
    HOST_IMAGE_SPRAWL,
};
use crate::{Finding, Location};

/// What the edge read of the host's set-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSetup {
    /// dockerd's data root (`DockerRootDir`).
    pub data_root: String,
    /// The data root is a mount point of its own; `None`: unknown.
    pub data_root_separate: Option<bool>,
    /// Members of group docker (supplementary or primary); `None`: no
    /// such group.
    pub docker_group: Option<Vec<String>>,
    /// Paths CIS 1.1.3–1.1.18 want audited that exist here: (CIS id, path).
    pub audit_paths: Vec<(String, String)>,
    /// Paths the audit rules files watch; `None`: no rules file at all.
    pub watched: Option<Vec<String>>,
    /// (images, images some container uses); `None`: not counted.
    pub images: Option<(usize, usize)>,
    /// (containers, running).
    pub containers: (usize, usize),
}

fn loc(what: &str) -> Location {
    Location::Host {
        path: what.to_string(),
    }
}

/// Audits the host's set-up.
pub fn audit_host_setup(h: &HostSetup) -> Vec<Finding> {
    let mut out = Vec::new();
    if h.data_root_separate == Some(false) && !h.data_root.is_empty() {
        out.push(HOST_DATA_ROOT_PARTITION.finding(
            loc(&h.data_root),
            format!("{} is on the same filesystem as its parent", h.data_root),
            format!("give {} a filesystem of its own (a partition or logical volume mounted there, in /etc/fstab), so images and containers cannot fill /", h.data_root),
        ));
    }
    if let Some(members) = h.docker_group.as_ref().filter(|m| !m.is_empty()) {
        out.push(HOST_DOCKER_GROUP.finding(
            loc("/etc/group"),
            format!("group docker: {} (each is root on this host)", members.join(", ")),
            "remove every user who must not be root: `gpasswd -d <user> docker`; give the others a filtering proxy (`dockward proxy`) instead; accept the rest in .dockward.toml".to_string(),
        ));
    }
    let watched = h.watched.clone().unwrap_or_default();
    let clean = |p: &str| p.trim_end_matches('/').to_string();
    let missing: Vec<&(String, String)> = h
        .audit_paths
        .iter()
        .filter(|(_, p)| !watched.iter().any(|w| clean(w) == clean(p)))
        .collect();
    if !missing.is_empty() {
        let ids: Vec<&str> = missing.iter().map(|(c, _)| c.as_str()).collect();
        let paths: Vec<&str> = missing.iter().map(|(_, p)| p.as_str()).collect();
        let rules: String = paths
            .iter()
            .map(|p| format!("-w {p} -k docker\n"))
            .collect();
        let mut f = HOST_AUDIT_RULES.finding(
            loc("/etc/audit/rules.d"),
            format!(
                "{} not watched by any audit rule{}",
                paths.join(", "),
                if h.watched.is_none() {
                    " (no audit rules file: auditd is not set up)"
                } else {
                    ""
                }
            ),
            format!("/etc/audit/rules.d/docker.rules:\n{rules}then `augenrules --load` (apt-get install auditd if it is missing)"),
        );
        f.cis = Some(ids.join(", "));
        out.push(f);
    }
    if let Some((total, used)) = h.images {
        if total > 0 && used * 2 < total {
            out.push(HOST_IMAGE_SPRAWL.finding(
                loc("images"),
                format!("{total} images, {used} used by a container"),
                "remove what no container uses: `docker image prune -a` (after checking the list with `docker images`)".to_string(),
            ));
        }
    }
    let (containers, running) = h.containers;
    if containers.saturating_sub(running) > 25 {
        out.push(HOST_CONTAINER_SPRAWL.finding(
            loc("containers"),
            format!("{containers} containers, {running} running"),
            "remove stopped containers that are not needed: `docker container prune` (after checking `docker ps -a -f status=exited`)".to_string(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_rules_match_exact_paths_not_substrings() {
        let h = HostSetup {
            audit_paths: vec![
                ("1.1.6".into(), "/etc/docker".into()),
                ("1.1.11".into(), "/etc/docker/daemon.json".into()),
                ("1.1.14".into(), "/usr/bin/containerd".into()),
            ],
            watched: Some(vec![
                "/etc/docker/daemon.json".into(),
                "/usr/bin/containerd-shim-runc-v2".into(),
            ]),
            ..HostSetup::default()
        };
        let f = audit_host_setup(&h);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].cis.as_deref(), Some("1.1.6, 1.1.14"));
        assert!(f[0].remediation.contains("-w /etc/docker -k docker"));
    }

    #[test]
    fn sprawl_partition_and_group() {
        let h = HostSetup {
            data_root: "/var/lib/docker".into(),
            data_root_separate: Some(false),
            docker_group: Some(vec!["alice".into()]),
            images: Some((10, 4)),
            containers: (40, 10),
            ..HostSetup::default()
        };
        let mut ids: Vec<String> = audit_host_setup(&h).into_iter().map(|f| f.rule).collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                "host-container-sprawl",
                "host-data-root-partition",
                "host-docker-group",
                "host-image-sprawl"
            ]
        );
        let quiet = HostSetup {
            data_root_separate: Some(true),
            docker_group: Some(vec![]),
            images: Some((10, 5)),
            containers: (30, 5),
            ..HostSetup::default()
        };
        assert!(audit_host_setup(&quiet).is_empty());
    }
}
