//! The labels a container or a Swarm service carries for the firewall,
//! parsed, with whether each may be its image's ([`LabelOrigin`]; a
//! service's labels are its spec's, never an image's).

use super::error::{PolicyError, EXPOSE_FIX};
use super::expose::{parse_expose, parse_port_key, Expose};
use dockward_model::{Container, LabelOrigin, Protocol, Service};
use std::collections::BTreeMap;

pub const LABEL_EXPOSE: &str = "dockward.expose";
pub const LABEL_ALLOW_FROM: &str = "dockward.allow-from";
pub const LABEL_ISOLATE: &str = "dockward.isolate";

/// One `dockward.expose*` label of a container, parsed.
pub(crate) struct Claim {
    pub(crate) expose: Expose,
    pub(crate) key: String,
    /// Its value may be the image's (see [`LabelOrigin`]): it may narrow
    /// the verdict, never widen it.
    pub(crate) maybe_image: bool,
}

pub(crate) struct ContainerLabels {
    pub(crate) all: Option<Claim>,
    /// (port, protocol or any) → the claim.
    pub(crate) ports: Vec<(u16, Option<Protocol>, Claim)>,
}

pub(crate) fn container_labels(c: &Container) -> Result<ContainerLabels, PolicyError> {
    parse(&format!("container {}", c.name), &c.labels, |k| {
        c.label_origin(k) != LabelOrigin::Own
    })
}

/// A service's labels (`docker service create --label`, `deploy.labels`):
/// they apply to every port of the service, on every node.
pub(crate) fn service_labels(s: &Service) -> Result<ContainerLabels, PolicyError> {
    parse(&format!("service {}", s.name), &s.labels, |_| false)
}

fn parse(
    owner: &str,
    labels: &BTreeMap<String, String>,
    maybe_image: impl Fn(&str) -> bool,
) -> Result<ContainerLabels, PolicyError> {
    let err = |label: &str, value: &str, problem: String, fix| PolicyError::Label {
        owner: owner.to_string(),
        label: label.to_string(),
        value: value.to_string(),
        problem,
        fix,
    };
    let claim = |k: &String, expose| Claim {
        expose,
        key: k.clone(),
        maybe_image: maybe_image(k),
    };
    let mut out = ContainerLabels {
        all: None,
        ports: Vec::new(),
    };
    for (k, v) in labels {
        if k == LABEL_EXPOSE {
            let e = parse_expose(v).map_err(|p| err(k, v, p, EXPOSE_FIX))?;
            out.all = Some(claim(k, e));
        } else if let Some(port) = k.strip_prefix("dockward.expose.") {
            let (port, proto) = parse_port_key(port).map_err(|p| {
                err(k, v, p, "Name the container port as dockward.expose.<port> or dockward.expose.<port>/<tcp|udp|sctp>")
            })?;
            let e = parse_expose(v).map_err(|p| err(k, v, p, EXPOSE_FIX))?;
            out.ports.push((port, proto, claim(k, e)));
        } else if k == LABEL_ALLOW_FROM && allow_from_names(v).is_empty() {
            return Err(err(
                k,
                v,
                "no container names given".into(),
                "Give a comma-separated list of container or compose service names",
            ));
        }
    }
    // Exact protocol beats "any protocol"; the order is the precedence.
    out.ports.sort_by_key(|(_, pr, _)| pr.is_none());
    Ok(out)
}

pub(crate) fn allow_from_names(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
