//! Which Docker Engine API endpoint a normalised request is, named by the
//! tecnativa section it belongs to and by a fine-grained action.
//!
//! The table follows moby's routers (api/server/router/*): a path must
//! match one of them exactly, or it is `Unknown` and refused — dockerd
//! would answer 404 anyway, and an unknown path is where parsers disagree.
//! Sections are where tecnativa's prefix matching put the path, except
//! that exec creation (`POST /containers/{id}/exec`) belongs to EXEC here:
//! under tecnativa it was reachable with CONTAINERS alone.

use crate::action::Action;
use serde::Serialize;

/// tecnativa/docker-socket-proxy's sections, one environment variable each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Section {
    Auth,
    Build,
    Commit,
    Configs,
    Containers,
    Distribution,
    Events,
    Exec,
    Grpc,
    Images,
    Info,
    Networks,
    Nodes,
    Ping,
    Plugins,
    Secrets,
    Services,
    Session,
    Swarm,
    System,
    Tasks,
    Version,
    Volumes,
}

impl Section {
    pub const ALL: [Self; 23] = [
        Self::Auth,
        Self::Build,
        Self::Commit,
        Self::Configs,
        Self::Containers,
        Self::Distribution,
        Self::Events,
        Self::Exec,
        Self::Grpc,
        Self::Images,
        Self::Info,
        Self::Networks,
        Self::Nodes,
        Self::Ping,
        Self::Plugins,
        Self::Secrets,
        Self::Services,
        Self::Session,
        Self::Swarm,
        Self::System,
        Self::Tasks,
        Self::Version,
        Self::Volumes,
    ];

    /// The environment variable's name.
    pub fn var(self) -> &'static str {
        match self {
            Self::Auth => "AUTH",
            Self::Build => "BUILD",
            Self::Commit => "COMMIT",
            Self::Configs => "CONFIGS",
            Self::Containers => "CONTAINERS",
            Self::Distribution => "DISTRIBUTION",
            Self::Events => "EVENTS",
            Self::Exec => "EXEC",
            Self::Grpc => "GRPC",
            Self::Images => "IMAGES",
            Self::Info => "INFO",
            Self::Networks => "NETWORKS",
            Self::Nodes => "NODES",
            Self::Ping => "PING",
            Self::Plugins => "PLUGINS",
            Self::Secrets => "SECRETS",
            Self::Services => "SERVICES",
            Self::Session => "SESSION",
            Self::Swarm => "SWARM",
            Self::System => "SYSTEM",
            Self::Tasks => "TASKS",
            Self::Version => "VERSION",
            Self::Volumes => "VOLUMES",
        }
    }

    pub fn from_var(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|x| x.var().eq_ignore_ascii_case(s))
    }
}

/// A route: section, action (e.g. [`Action::ContainersLogs`]), and the
/// object id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub section: Section,
    pub action: Action,
    /// The container, exec, image, network… id or name, when the path has one.
    pub id: Option<String>,
}

fn r(section: Section, action: Action, id: Option<&String>) -> Option<Route> {
    Some(Route {
        section,
        action,
        id: id.cloned(),
    })
}

/// The route of `method` on the decoded segments, or `None` (unknown).
pub fn classify(method: &str, seg: &[String]) -> Option<Route> {
    use Section::*;
    let s: Vec<&str> = seg.iter().map(String::as_str).collect();
    let get = method == "GET" || method == "HEAD";
    match (method, s.as_slice()) {
        (_, ["_ping"]) if get => r(Ping, Action::PingGet, None),
        ("GET", ["version"]) => r(Version, Action::VersionGet, None),
        ("GET", ["info"]) => r(Info, Action::InfoGet, None),
        ("GET", ["events"]) => r(Events, Action::EventsGet, None),
        ("POST", ["auth"]) => r(Auth, Action::AuthLogin, None),
        ("GET", ["system", "df"]) => r(System, Action::SystemDf, None),
        ("POST", ["commit"]) => r(Commit, Action::CommitCreate, None),
        ("POST", ["session"]) => r(Session, Action::SessionStart, None),
        ("POST", ["grpc"]) => r(Grpc, Action::GrpcStart, None),
        ("POST", ["build"]) => r(Build, Action::BuildStart, None),
        ("POST", ["build", "prune"]) => r(Build, Action::BuildPrune, None),
        ("POST", ["build", "cancel"]) => r(Build, Action::BuildCancel, None),
        // Containers.
        ("GET", ["containers", "json"]) => r(Containers, Action::ContainersList, None),
        ("POST", ["containers", "create"]) => r(Containers, Action::ContainersCreate, None),
        ("POST", ["containers", "prune"]) => r(Containers, Action::ContainersPrune, None),
        ("DELETE", ["containers", _]) => r(Containers, Action::ContainersDelete, Some(&seg[1])),
        (m, ["containers", _, sub]) => {
            let id = Some(&seg[1]);
            let action = match (m, *sub) {
                ("GET", "json") => Action::ContainersInspect,
                ("GET", "logs") => Action::ContainersLogs,
                ("GET", "stats") => Action::ContainersStats,
                ("GET", "top") => Action::ContainersTop,
                ("GET", "changes") => Action::ContainersChanges,
                ("GET", "export") => Action::ContainersExport,
                ("GET" | "HEAD", "archive") => Action::ContainersArchiveGet,
                ("PUT", "archive") => Action::ContainersArchivePut,
                ("POST", "attach") => Action::ContainersAttach,
                ("POST", "exec") => return r(Exec, Action::ExecCreate, id),
                ("POST", "start") => Action::ContainersStart,
                ("POST", "stop") => Action::ContainersStop,
                ("POST", "kill") => Action::ContainersKill,
                ("POST", "restart") => Action::ContainersRestart,
                ("POST", "pause") => Action::ContainersPause,
                ("POST", "unpause") => Action::ContainersUnpause,
                ("POST", "update") => Action::ContainersUpdate,
                ("POST", "rename") => Action::ContainersRename,
                ("POST", "wait") => Action::ContainersWait,
                ("POST", "resize") => Action::ContainersResize,
                _ => return None,
            };
            r(Containers, action, id)
        }
        ("GET", ["containers", _, "attach", "ws"]) => {
            r(Containers, Action::ContainersAttachWs, Some(&seg[1]))
        }
        // Exec instances.
        ("POST", ["exec", _, "start"]) => r(Exec, Action::ExecStart, Some(&seg[1])),
        ("POST", ["exec", _, "resize"]) => r(Exec, Action::ExecResize, Some(&seg[1])),
        ("GET", ["exec", _, "json"]) => r(Exec, Action::ExecInspect, Some(&seg[1])),
        // Images: names contain slashes, so the verb is the last segment.
        ("GET", ["images", "json"]) => r(Images, Action::ImagesList, None),
        ("GET", ["images", "search"]) => r(Images, Action::ImagesSearch, None),
        ("GET", ["images", "get"]) => r(Images, Action::ImagesExport, None),
        ("POST", ["images", "create"]) => r(Images, Action::ImagesPull, None),
        ("POST", ["images", "load"]) => r(Images, Action::ImagesLoad, None),
        ("POST", ["images", "prune"]) => r(Images, Action::ImagesPrune, None),
        ("DELETE", ["images", ..]) if s.len() >= 2 => {
            r(Images, Action::ImagesDelete, Some(&seg[1..].join("/")))
        }
        (m, ["images", .., last]) if s.len() >= 3 => {
            let name = seg[1..seg.len() - 1].join("/");
            let action = match (m, *last) {
                ("GET", "json") => Action::ImagesInspect,
                ("GET", "history") => Action::ImagesHistory,
                ("GET", "get") => Action::ImagesExport,
                ("POST", "push") => Action::ImagesPush,
                ("POST", "tag") => Action::ImagesTag,
                _ => return None,
            };
            r(Images, action, Some(&name))
        }
        ("GET", ["distribution", .., "json"]) if s.len() >= 3 => {
            r(Distribution, Action::DistributionInspect, None)
        }
        // Networks.
        ("GET", ["networks"]) => r(Networks, Action::NetworksList, None),
        ("POST", ["networks", "create"]) => r(Networks, Action::NetworksCreate, None),
        ("POST", ["networks", "prune"]) => r(Networks, Action::NetworksPrune, None),
        ("GET", ["networks", _]) => r(Networks, Action::NetworksInspect, Some(&seg[1])),
        ("DELETE", ["networks", _]) => r(Networks, Action::NetworksDelete, Some(&seg[1])),
        ("POST", ["networks", _, "connect"]) => r(Networks, Action::NetworksConnect, Some(&seg[1])),
        ("POST", ["networks", _, "disconnect"]) => {
            r(Networks, Action::NetworksDisconnect, Some(&seg[1]))
        }
        // Volumes.
        ("GET", ["volumes"]) => r(Volumes, Action::VolumesList, None),
        ("POST", ["volumes", "create"]) => r(Volumes, Action::VolumesCreate, None),
        ("POST", ["volumes", "prune"]) => r(Volumes, Action::VolumesPrune, None),
        ("GET", ["volumes", _]) => r(Volumes, Action::VolumesInspect, Some(&seg[1])),
        ("PUT", ["volumes", _]) => r(Volumes, Action::VolumesUpdate, Some(&seg[1])),
        ("DELETE", ["volumes", _]) => r(Volumes, Action::VolumesDelete, Some(&seg[1])),
        // Swarm objects: list/inspect reads, the rest writes.
        (
            m,
            [obj @ ("services" | "nodes" | "tasks" | "secrets" | "configs" | "plugins" | "swarm"), rest @ ..],
        ) => {
            // One table: the section, and its generic read and write actions.
            let (section, read, write) = match *obj {
                "services" => (Services, Action::ServicesRead, Action::ServicesWrite),
                "nodes" => (Nodes, Action::NodesRead, Action::NodesWrite),
                "tasks" => (Tasks, Action::TasksRead, Action::TasksWrite),
                "secrets" => (Secrets, Action::SecretsRead, Action::SecretsWrite),
                "configs" => (Configs, Action::ConfigsRead, Action::ConfigsWrite),
                "plugins" => (Plugins, Action::PluginsRead, Action::PluginsWrite),
                _ => (Swarm, Action::SwarmRead, Action::SwarmWrite),
            };
            let action = match (section, m, rest) {
                (Services, "POST", ["create"]) => Action::ServicesCreate,
                (Services, "POST", [_, "update"]) => Action::ServicesUpdate,
                (Services, "GET", [_, "logs"]) => Action::ServicesLogs,
                (Tasks, "GET", [_, "logs"]) => Action::TasksLogs,
                (Swarm, "POST", ["join"]) => Action::SwarmJoin,
                (Plugins, "POST", ["pull"]) => Action::PluginsPull,
                (Plugins, "POST", ["create"]) => Action::PluginsCreate,
                // Plugin names hold slashes (moby routes `{name:.*}`).
                (Plugins, "POST", [_, .., "enable"]) => Action::PluginsEnable,
                (Plugins, "POST", [_, .., "set"]) => Action::PluginsSet,
                (Plugins, "POST", [.., "upgrade"]) => Action::PluginsUpgrade,
                (Plugins, "GET", ["privileges"]) => Action::PluginsPrivileges,
                (_, "GET" | "HEAD", _) => read,
                _ => write,
            };
            let id = rest
                .first()
                .filter(|f| {
                    !matches!(
                        **f,
                        "create"
                            | "pull"
                            | "privileges"
                            | "init"
                            | "join"
                            | "leave"
                            | "update"
                            | "unlock"
                            | "unlockkey"
                    )
                })
                .map(|_| &seg[1]);
            r(section, action, id)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(m: &str, p: &str) -> Option<(Section, Action, Option<String>)> {
        let seg: Vec<String> = p
            .trim_start_matches('/')
            .split('/')
            .map(str::to_string)
            .collect();
        classify(m, &seg).map(|r| (r.section, r.action, r.id))
    }

    #[test]
    fn containers_sub_resources() {
        assert_eq!(
            c("GET", "/containers/json"),
            Some((Section::Containers, Action::ContainersList, None))
        );
        assert_eq!(
            c("GET", "/containers/abc/logs").map(|x| x.1),
            Some(Action::ContainersLogs)
        );
        assert_eq!(
            c("GET", "/containers/abc/attach/ws").map(|x| x.1),
            Some(Action::ContainersAttachWs)
        );
        assert_eq!(
            c("POST", "/containers/abc/exec"),
            Some((Section::Exec, Action::ExecCreate, Some("abc".into())))
        );
        assert_eq!(
            c("PUT", "/containers/abc/archive").map(|x| x.1),
            Some(Action::ContainersArchivePut)
        );
        assert_eq!(
            c("HEAD", "/containers/abc/archive").map(|x| x.1),
            Some(Action::ContainersArchiveGet)
        );
        assert_eq!(
            c("DELETE", "/containers/abc").map(|x| x.1),
            Some(Action::ContainersDelete)
        );
        assert_eq!(c("GET", "/containers/abc/nope"), None);
        assert_eq!(c("GET", "/CONTAINERS/json"), None);
    }

    #[test]
    fn images_with_slashes() {
        assert_eq!(
            c("GET", "/images/library/nginx/json"),
            Some((
                Section::Images,
                Action::ImagesInspect,
                Some("library/nginx".into())
            ))
        );
        assert_eq!(
            c("DELETE", "/images/reg:5000/a/b:1").map(|x| x.2),
            Some(Some("reg:5000/a/b:1".into()))
        );
        assert_eq!(
            c("POST", "/images/create").map(|x| x.1),
            Some(Action::ImagesPull)
        );
    }

    #[test]
    fn everything_else() {
        assert_eq!(c("HEAD", "/_ping").map(|x| x.0), Some(Section::Ping));
        assert_eq!(c("GET", "/events").map(|x| x.0), Some(Section::Events));
        assert_eq!(
            c("POST", "/exec/e1/start").map(|x| x.1),
            Some(Action::ExecStart)
        );
        assert_eq!(
            c("POST", "/services/create").map(|x| x.1),
            Some(Action::ServicesCreate)
        );
        assert_eq!(
            c("GET", "/services/s1").map(|x| x.1),
            Some(Action::ServicesRead)
        );
        assert_eq!(
            c("POST", "/swarm/init").map(|x| x.1),
            Some(Action::SwarmWrite)
        );
        assert_eq!(
            c("POST", "/volumes/create").map(|x| x.1),
            Some(Action::VolumesCreate)
        );
        assert_eq!(c("GET", "/nothing"), None);
        assert_eq!(Section::from_var("containers"), Some(Section::Containers));
    }
}
