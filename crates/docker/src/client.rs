//! The thin layer that calls dockerd.
//!
//! One snapshot costs four list calls made at once (`/version`, `/info`,
//! `/networks`, `/containers/json?all=1`) plus one inspect per container,
//! sixteen in flight: the list endpoints do not carry what a security tool
//! needs (the configured user, privileges, the ports a stopped container
//! will publish). docker-bench-security makes about 40 `docker` calls per
//! container for the same picture. The firewall needs less ([`Scope`]): a
//! running container's list entry has its ports, labels and addresses, and
//! its pid is on the host, so only the others are inspected. Add one inspect per distinct image, made
//! once per `Engine` (an image id names immutable content): Docker merges
//! an image's labels into its containers' labels, and only the image's own
//! labels tell whose a label is.

use crate::convert;
use crate::endpoint::Endpoint;
use crate::error::EngineError;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptionsBuilder};
use bollard::Docker;
use dockward_model::Inventory;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How many container inspects are in flight at once.
const INSPECT_CONCURRENCY: usize = 16;

/// Anything that can produce an inventory snapshot. The CLI depends on this,
/// not on bollard, so commands are tested with a recorded inventory.
#[allow(async_fn_in_trait)] // reason: used with generics only, never boxed; Send-ness is not needed by callers
pub trait InventorySource {
    async fn snapshot(&self) -> Result<Inventory, EngineError>;
}

/// A connected, version-negotiated Docker client.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    endpoint: Endpoint,
    images: Arc<Mutex<BTreeMap<String, ImageConfig>>>,
    scope: Scope,
}

/// A running container's pid as the host shows it, by container id.
pub type PidOf = Arc<dyn Fn(&str) -> Option<u32> + Send + Sync>;

/// How much of each container a snapshot reads.
#[derive(Clone, Default)]
pub enum Scope {
    /// Every container inspected: what `status` and the audit judge.
    #[default]
    Full,
    /// What the firewall reads and no more: a running container whose pid
    /// the function finds is taken from its list entry (see
    /// [`convert::listed`]); the others are inspected; `/version` is not
    /// asked (the daemon's version comes from `/info`, its API versions
    /// stay empty). The configuration fields the audit judges are then
    /// left at their defaults, so such an inventory must not be audited.
    Firewall(PidOf),
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Full => "Full",
            Self::Firewall(_) => "Firewall",
        })
    }
}

/// What dockward reads from an image's config (one inspect per image per
/// client, cached: the snapshot's labels and the audit's image rules share
/// it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// The image's id (`sha256:…`).
    pub id: String,
    /// `Config.User`, empty for root.
    pub user: String,
    /// `Config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// `Config.Env`.
    pub env: Vec<String>,
    /// `Config.ExposedPorts` (`22/tcp`).
    pub exposed: Vec<String>,
    /// `Config.Healthcheck.Test`, `None` without one.
    pub healthcheck: Option<Vec<String>>,
    /// `Config.OnBuild`.
    pub onbuild: Vec<String>,
}

impl Engine {
    /// Connect, and make sure a daemon answers there (one `GET /_ping`).
    ///
    /// No version is negotiated: bollard joins each absolute API path onto
    /// its base URL, which drops the `/vX.Y` prefix, so every call is
    /// unversioned and dockerd answers in its own API version whatever was
    /// negotiated. Negotiating would cost a `GET /version`, which dockerd
    /// answers by asking containerd and runc for theirs (6 ms of a 20.10
    /// daemon's time, where `/_ping` takes half a millisecond), before any
    /// other call could start.
    pub async fn connect(endpoint: Endpoint) -> Result<Self, EngineError> {
        let docker = Docker::connect_with_host(&endpoint.url)
            .map_err(|e| EngineError::from_bollard(&endpoint, "connect", e))?;
        docker
            .ping()
            .await
            .map_err(|e| EngineError::from_bollard(&endpoint, "GET /_ping", e))?;
        Ok(Self {
            docker,
            endpoint,
            images: Arc::default(),
            scope: Scope::Full,
        })
    }

    /// The same client, its snapshots reading `scope`.
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Whether this daemon is a Swarm node (`/info`: a local node state
    /// other than inactive).
    pub async fn in_swarm(&self) -> Result<bool, EngineError> {
        use bollard::models::LocalNodeState as L;
        let info = self.docker.info().await.map_err(self.err("GET /info"))?;
        Ok(info
            .swarm
            .and_then(|s| s.local_node_state)
            .is_some_and(|s| matches!(s, L::ACTIVE | L::PENDING | L::LOCKED | L::ERROR)))
    }

    /// The underlying bollard client, for the edges that need more calls.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// One container, converted; `None` when it no longer exists. The
    /// firewall's watcher uses this on each event instead of a snapshot, so
    /// a container start costs one API call.
    pub async fn container(
        &self,
        id: &str,
    ) -> Result<Option<dockward_model::Container>, EngineError> {
        match self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
        {
            Ok(c) => {
                let mut c = convert::container(&c);
                self.with_image_labels(std::slice::from_mut(&mut c)).await?;
                Ok(Some(c))
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(EngineError::from_bollard(
                &self.endpoint,
                &format!("GET /containers/{id}/json"),
                e,
            )),
        }
    }

    /// The user and labels of each image, by image id. Images that are
    /// gone are left out (the audit then judges by the container's own
    /// user alone; the firewall treats every label as possibly the
    /// image's). Sixteen inspects in flight; an image id names immutable
    /// content, so each is inspected once per `Engine` and then cached.
    pub async fn images(
        &self,
        ids: &[String],
    ) -> Result<BTreeMap<String, ImageConfig>, EngineError> {
        let mut out = BTreeMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.images.lock().unwrap_or_else(|p| p.into_inner());
            for id in ids {
                match cache.get(id) {
                    Some(c) => {
                        out.insert(id.clone(), c.clone());
                    }
                    None if !id.is_empty() => missing.push(id.clone()),
                    None => {}
                }
            }
        }
        missing.sort();
        missing.dedup();
        let d = &self.docker;
        let found: Vec<Option<(String, ImageConfig)>> = stream::iter(missing)
            .map(|id| async move {
                match d.inspect_image(&id).await {
                    Ok(img) => {
                        let config = img.config.unwrap_or_default();
                        let c = ImageConfig {
                            id: img.id.unwrap_or_default(),
                            user: config.user.unwrap_or_default(),
                            labels: config.labels.unwrap_or_default().into_iter().collect(),
                            env: config.env.unwrap_or_default(),
                            exposed: config.exposed_ports.unwrap_or_default(),
                            healthcheck: config.healthcheck.and_then(|h| h.test),
                            onbuild: config.on_build.unwrap_or_default(),
                        };
                        Ok(Some((id, c)))
                    }
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => Ok(None),
                    Err(e) => Err(EngineError::from_bollard(
                        &self.endpoint,
                        &format!("GET /images/{id}/json"),
                        e,
                    )),
                }
            })
            .buffer_unordered(INSPECT_CONCURRENCY)
            .try_collect()
            .await?;
        let mut cache = self.images.lock().unwrap_or_else(|p| p.into_inner());
        for (id, c) in found.into_iter().flatten() {
            cache.insert(id.clone(), c.clone());
            out.insert(id, c);
        }
        Ok(out)
    }

    /// Fill each container's `image_labels` from its image (see
    /// [`dockward_model::Container::label_origin`]).
    async fn with_image_labels(
        &self,
        containers: &mut [dockward_model::Container],
    ) -> Result<(), EngineError> {
        let ids: Vec<String> = containers.iter().map(|c| c.image_id.clone()).collect();
        let images = self.images(&ids).await?;
        for c in containers {
            c.image_labels = images.get(&c.image_id).map(|i| i.labels.clone());
        }
        Ok(())
    }

    fn err(&self, call: &str) -> impl Fn(bollard::errors::Error) -> EngineError + '_ {
        let call = call.to_string();
        move |e| EngineError::from_bollard(&self.endpoint, &call, e)
    }
}

/// A Swarm's nodes and services, and what only a network inspect shows,
/// by network id.
type SwarmParts = (
    Vec<bollard::models::Node>,
    Vec<bollard::models::Service>,
    BTreeMap<String, Inspected>,
);

/// What a network inspect adds to the list's view on a Swarm node.
#[derive(Default)]
struct Inspected {
    /// An overlay's peers.
    peers: Vec<String>,
    /// On `docker_gwbridge`: the routing mesh sandbox's IPv4 address.
    ingress_sbox: Option<String>,
}

impl Engine {
    /// What a Swarm node adds to a snapshot: on a manager, the nodes and
    /// services (only managers may list them); on any node, the peers of
    /// its overlay networks, which only a network inspect shows (on a
    /// worker, the one way to learn the other nodes' addresses). Nothing
    /// on a host outside a swarm.
    async fn swarm_parts(
        &self,
        info: &bollard::models::SystemInfo,
        networks: &[bollard::models::Network],
    ) -> Result<SwarmParts, EngineError> {
        use bollard::models::LocalNodeState;
        let Some(s) = info.swarm.as_ref() else {
            return Ok(Default::default());
        };
        if s.local_node_state != Some(LocalNodeState::ACTIVE) {
            return Ok(Default::default());
        }
        let d = &self.docker;
        let manager = s.control_available.unwrap_or(false);
        // The overlays, and the bridge the routing mesh's sandbox is on.
        let overlays: Vec<String> = networks
            .iter()
            .filter(|n| {
                n.driver.as_deref() == Some("overlay")
                    || n.name.as_deref() == Some(convert::GWBRIDGE)
            })
            .filter_map(|n| n.id.clone())
            .collect();
        let peers = stream::iter(overlays)
            .map(|id| async move {
                match d
                    .inspect_network(
                        &id,
                        None::<bollard::query_parameters::InspectNetworkOptions>,
                    )
                    .await
                {
                    Ok(n) => Ok(Some((
                        id,
                        Inspected {
                            ingress_sbox: convert::ingress_sbox(&n),
                            peers: n
                                .peers
                                .into_iter()
                                .flatten()
                                .filter_map(|p| p.ip.filter(|ip| !ip.is_empty()))
                                .collect(),
                        },
                    ))),
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => Ok(None),
                    Err(e) => Err(EngineError::from_bollard(
                        &self.endpoint,
                        &format!("GET /networks/{id}"),
                        e,
                    )),
                }
            })
            .buffer_unordered(INSPECT_CONCURRENCY)
            .try_filter_map(|p| async move { Ok(p) })
            .try_collect::<BTreeMap<String, Inspected>>();
        let cluster = async {
            if !manager {
                return Ok((Vec::new(), Vec::new()));
            }
            tokio::try_join!(
                async {
                    d.list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
                        .await
                        .map_err(self.err("GET /nodes"))
                },
                async {
                    d.list_services(None::<bollard::query_parameters::ListServicesOptions>)
                        .await
                        .map_err(self.err("GET /services"))
                },
            )
        };
        let ((nodes, services), peers) = tokio::try_join!(cluster, peers)?;
        Ok((nodes, services, peers))
    }
}

impl InventorySource for Engine {
    async fn snapshot(&self) -> Result<Inventory, EngineError> {
        let d = &self.docker;
        let list_opts = ListContainersOptionsBuilder::default().all(true).build();
        let (version, info, networks, summaries) = tokio::try_join!(
            async {
                match self.scope {
                    // `/version` is the slowest list call (dockerd asks
                    // containerd and runc for theirs); the firewall reads
                    // none of it, and `/info` names the engine's version.
                    Scope::Firewall(_) => Ok(bollard::models::SystemVersion::default()),
                    Scope::Full => d.version().await.map_err(self.err("GET /version")),
                }
            },
            async { d.info().await.map_err(self.err("GET /info")) },
            async {
                d.list_networks(None::<bollard::query_parameters::ListNetworksOptions>)
                    .await
                    .map_err(self.err("GET /networks"))
            },
            async {
                d.list_containers(Some(list_opts))
                    .await
                    .map_err(self.err("GET /containers/json"))
            },
        )?;
        // The images are known from the list: inspect them while the
        // containers are inspected, not after.
        let image_ids: Vec<String> = summaries
            .iter()
            .filter_map(|s| s.image_id.clone())
            .collect();
        let mut listed = Vec::new();
        let mut ids = Vec::new();
        for s in summaries {
            let from_list = match &self.scope {
                Scope::Full => None,
                // A stopped container is inspected anyway: no pid to look
                // for on the host (up to seven file reads each).
                Scope::Firewall(pid_of) if convert::live_state(&s).is_some() => {
                    s.id.as_deref()
                        .and_then(|id| pid_of(id))
                        .and_then(|pid| convert::listed(&s, pid))
                }
                Scope::Firewall(_) => None,
            };
            match from_list {
                Some(c) => listed.push(c),
                None => ids.extend(s.id),
            }
        }
        let containers = stream::iter(ids)
            .map(|id| async move {
                match d
                    .inspect_container(&id, None::<InspectContainerOptions>)
                    .await
                {
                    Ok(c) => Ok(Some(convert::container(&c))),
                    // Removed between the list and the inspect: it is gone,
                    // and so absent from the snapshot.
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => Ok(None),
                    Err(e) => Err(EngineError::from_bollard(
                        &self.endpoint,
                        &format!("GET /containers/{id}/json"),
                        e,
                    )),
                }
            })
            .buffer_unordered(INSPECT_CONCURRENCY)
            .try_filter_map(|c| async move { Ok(c) })
            .try_collect::<Vec<_>>();
        let (inspected, _, (nodes, services, peers)) = tokio::try_join!(
            containers,
            self.images(&image_ids),
            self.swarm_parts(&info, &networks)
        )?;
        listed.extend(inspected);
        let mut inv = convert::inventory(&version, &info, &networks, listed);
        inv.swarm = convert::swarm(&info, &nodes, &services);
        for n in &mut inv.networks {
            if let Some(p) = peers.get(&n.id) {
                n.peers.clone_from(&p.peers);
                n.ingress_sbox.clone_from(&p.ingress_sbox);
            }
        }
        // From the cache now, but for an image a container was re-created
        // from between the list and its inspect.
        self.with_image_labels(&mut inv.containers).await?;
        Ok(inv)
    }
}
