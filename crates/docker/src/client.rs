//! The thin layer that calls dockerd.
//!
//! One snapshot costs four list calls made at once (`/version`, `/info`,
//! `/networks`, `/containers/json?all=1`) plus one inspect per container,
//! sixteen in flight: the list endpoints do not carry what a security tool
//! needs (the configured user, privileges, the ports a stopped container
//! will publish). docker-bench-security makes about 40 `docker` calls per
//! container for the same picture.

use crate::convert;
use crate::endpoint::Endpoint;
use crate::error::EngineError;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptionsBuilder};
use bollard::Docker;
use dockward_model::Inventory;
use futures_util::stream::{self, StreamExt, TryStreamExt};

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
}

impl Engine {
    /// Connect and negotiate the API version (one `GET /version`).
    pub async fn connect(endpoint: Endpoint) -> Result<Self, EngineError> {
        let docker = Docker::connect_with_host(&endpoint.url)
            .map_err(|e| EngineError::from_bollard(&endpoint, "connect", e))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| EngineError::from_bollard(&endpoint, "GET /version", e))?;
        Ok(Self { docker, endpoint })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
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
            Ok(c) => Ok(Some(convert::container(&c))),
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

    /// The USER of each image (`Config.User`, empty for root), by image id.
    /// Images that are gone are left out; the audit then judges by the
    /// container's own user alone. Sixteen inspects in flight.
    pub async fn image_users(
        &self,
        ids: &[String],
    ) -> Result<std::collections::BTreeMap<String, String>, EngineError> {
        let d = &self.docker;
        let found: Vec<Option<(String, String)>> = stream::iter(ids.iter().cloned())
            .map(|id| async move {
                match d.inspect_image(&id).await {
                    Ok(img) => Ok(Some((
                        id,
                        img.config.and_then(|c| c.user).unwrap_or_default(),
                    ))),
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
        Ok(found.into_iter().flatten().collect())
    }

    fn err(&self, call: &str) -> impl Fn(bollard::errors::Error) -> EngineError + '_ {
        let call = call.to_string();
        move |e| EngineError::from_bollard(&self.endpoint, &call, e)
    }
}

impl InventorySource for Engine {
    async fn snapshot(&self) -> Result<Inventory, EngineError> {
        let d = &self.docker;
        let list_opts = ListContainersOptionsBuilder::default().all(true).build();
        let (version, info, networks, summaries) = tokio::try_join!(
            async { d.version().await.map_err(self.err("GET /version")) },
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
        let ids: Vec<String> = summaries.into_iter().filter_map(|s| s.id).collect();
        let inspects: Vec<_> = stream::iter(ids)
            .map(|id| async move {
                match d
                    .inspect_container(&id, None::<InspectContainerOptions>)
                    .await
                {
                    Ok(c) => Ok(Some(c)),
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
            .try_collect()
            .await?;
        Ok(convert::inventory(&version, &info, &networks, &inspects))
    }
}
