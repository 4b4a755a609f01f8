//! What a request asks dockerd to do, as a value: one variant per route
//! of the Engine API that dockward knows (`route::classify` makes them),
//! named `<section>.<verb>` in policy files, logs and metrics. The list of
//! names is the enum, so the router, the policy file's validation and
//! `proxy --list-actions` cannot drift apart.

use serde::{Serialize, Serializer};

macro_rules! actions {
    ($($variant:ident = $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            /// Every action, sorted by name.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// `<section>.<verb>`, as policy files write it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    AuthLogin = "auth.login",
    BuildCancel = "build.cancel",
    BuildPrune = "build.prune",
    BuildStart = "build.start",
    CommitCreate = "commit.create",
    ConfigsRead = "configs.read",
    ConfigsWrite = "configs.write",
    ContainersArchiveGet = "containers.archive_get",
    ContainersArchivePut = "containers.archive_put",
    ContainersAttach = "containers.attach",
    ContainersAttachWs = "containers.attach_ws",
    ContainersChanges = "containers.changes",
    ContainersCreate = "containers.create",
    ContainersDelete = "containers.delete",
    ContainersExport = "containers.export",
    ContainersInspect = "containers.inspect",
    ContainersKill = "containers.kill",
    ContainersList = "containers.list",
    ContainersLogs = "containers.logs",
    ContainersPause = "containers.pause",
    ContainersPrune = "containers.prune",
    ContainersRename = "containers.rename",
    ContainersResize = "containers.resize",
    ContainersRestart = "containers.restart",
    ContainersStart = "containers.start",
    ContainersStats = "containers.stats",
    ContainersStop = "containers.stop",
    ContainersTop = "containers.top",
    ContainersUnpause = "containers.unpause",
    ContainersUpdate = "containers.update",
    ContainersWait = "containers.wait",
    DistributionInspect = "distribution.inspect",
    EventsGet = "events.get",
    ExecCreate = "exec.create",
    ExecInspect = "exec.inspect",
    ExecResize = "exec.resize",
    ExecStart = "exec.start",
    GrpcStart = "grpc.start",
    ImagesDelete = "images.delete",
    ImagesExport = "images.export",
    ImagesHistory = "images.history",
    ImagesInspect = "images.inspect",
    ImagesList = "images.list",
    ImagesLoad = "images.load",
    ImagesPrune = "images.prune",
    ImagesPull = "images.pull",
    ImagesPush = "images.push",
    ImagesSearch = "images.search",
    ImagesTag = "images.tag",
    InfoGet = "info.get",
    NetworksConnect = "networks.connect",
    NetworksCreate = "networks.create",
    NetworksDelete = "networks.delete",
    NetworksDisconnect = "networks.disconnect",
    NetworksInspect = "networks.inspect",
    NetworksList = "networks.list",
    NetworksPrune = "networks.prune",
    NodesRead = "nodes.read",
    NodesWrite = "nodes.write",
    PingGet = "ping.get",
    PluginsCreate = "plugins.create",
    PluginsEnable = "plugins.enable",
    PluginsPrivileges = "plugins.privileges",
    PluginsPull = "plugins.pull",
    PluginsRead = "plugins.read",
    PluginsSet = "plugins.set",
    PluginsUpgrade = "plugins.upgrade",
    PluginsWrite = "plugins.write",
    SecretsRead = "secrets.read",
    SecretsWrite = "secrets.write",
    ServicesCreate = "services.create",
    ServicesLogs = "services.logs",
    ServicesRead = "services.read",
    ServicesUpdate = "services.update",
    ServicesWrite = "services.write",
    SessionStart = "session.start",
    SwarmJoin = "swarm.join",
    SwarmRead = "swarm.read",
    SwarmWrite = "swarm.write",
    SystemDf = "system.df",
    TasksLogs = "tasks.logs",
    TasksRead = "tasks.read",
    TasksWrite = "tasks.write",
    VersionGet = "version.get",
    VolumesCreate = "volumes.create",
    VolumesDelete = "volumes.delete",
    VolumesInspect = "volumes.inspect",
    VolumesList = "volumes.list",
    VolumesPrune = "volumes.prune",
    VolumesUpdate = "volumes.update",
}

impl Action {
    /// The action a policy file names, exactly.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The part before the dot: `containers`, `exec`, `images`, …
    pub fn section(self) -> &'static str {
        self.name().split('.').next().unwrap_or_default()
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_sorted_and_round_trip() {
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(a.name().starts_with(a.section()));
        }
        assert_eq!(Action::from_name("containers.Create"), None);
    }
}
