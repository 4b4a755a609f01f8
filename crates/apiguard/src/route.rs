//! Which Docker Engine API endpoint a normalised request is, named by the
//! tecnativa section it belongs to and by a fine-grained action.
//!
//! The table follows moby's routers (api/server/router/*): a path must
//! match one of them exactly, or it is `Unknown` and refused — dockerd
//! would answer 404 anyway, and an unknown path is where parsers disagree.
//! Sections are where tecnativa's prefix matching put the path, except
//! that exec creation (`POST /containers/{id}/exec`) belongs to EXEC here:
//! under tecnativa it was reachable with CONTAINERS alone.

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

/// A route: section, action (e.g. `containers.logs`), and the object id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub section: Section,
    /// `<section>.<verb>`, lower case, e.g. `containers.attach_ws`.
    pub action: &'static str,
    /// The container, exec, image, network… id or name, when the path has one.
    pub id: Option<String>,
}

fn r(section: Section, action: &'static str, id: Option<&String>) -> Option<Route> {
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
        (_, ["_ping"]) if get => r(Ping, "ping.get", None),
        ("GET", ["version"]) => r(Version, "version.get", None),
        ("GET", ["info"]) => r(Info, "info.get", None),
        ("GET", ["events"]) => r(Events, "events.get", None),
        ("POST", ["auth"]) => r(Auth, "auth.login", None),
        ("GET", ["system", "df"]) => r(System, "system.df", None),
        ("POST", ["commit"]) => r(Commit, "commit.create", None),
        ("POST", ["session"]) => r(Session, "session.start", None),
        ("POST", ["grpc"]) => r(Grpc, "grpc.start", None),
        ("POST", ["build"]) => r(Build, "build.start", None),
        ("POST", ["build", "prune"]) => r(Build, "build.prune", None),
        ("POST", ["build", "cancel"]) => r(Build, "build.cancel", None),
        // Containers.
        ("GET", ["containers", "json"]) => r(Containers, "containers.list", None),
        ("POST", ["containers", "create"]) => r(Containers, "containers.create", None),
        ("POST", ["containers", "prune"]) => r(Containers, "containers.prune", None),
        ("DELETE", ["containers", _]) => r(Containers, "containers.delete", Some(&seg[1])),
        (m, ["containers", _, sub]) => {
            let id = Some(&seg[1]);
            let action = match (m, *sub) {
                ("GET", "json") => "containers.inspect",
                ("GET", "logs") => "containers.logs",
                ("GET", "stats") => "containers.stats",
                ("GET", "top") => "containers.top",
                ("GET", "changes") => "containers.changes",
                ("GET", "export") => "containers.export",
                ("GET" | "HEAD", "archive") => "containers.archive_get",
                ("PUT", "archive") => "containers.archive_put",
                ("POST", "attach") => "containers.attach",
                ("POST", "exec") => return r(Exec, "exec.create", id),
                ("POST", "start") => "containers.start",
                ("POST", "stop") => "containers.stop",
                ("POST", "kill") => "containers.kill",
                ("POST", "restart") => "containers.restart",
                ("POST", "pause") => "containers.pause",
                ("POST", "unpause") => "containers.unpause",
                ("POST", "update") => "containers.update",
                ("POST", "rename") => "containers.rename",
                ("POST", "wait") => "containers.wait",
                ("POST", "resize") => "containers.resize",
                _ => return None,
            };
            r(Containers, action, id)
        }
        ("GET", ["containers", _, "attach", "ws"]) => {
            r(Containers, "containers.attach_ws", Some(&seg[1]))
        }
        // Exec instances.
        ("POST", ["exec", _, "start"]) => r(Exec, "exec.start", Some(&seg[1])),
        ("POST", ["exec", _, "resize"]) => r(Exec, "exec.resize", Some(&seg[1])),
        ("GET", ["exec", _, "json"]) => r(Exec, "exec.inspect", Some(&seg[1])),
        // Images: names contain slashes, so the verb is the last segment.
        ("GET", ["images", "json"]) => r(Images, "images.list", None),
        ("GET", ["images", "search"]) => r(Images, "images.search", None),
        ("GET", ["images", "get"]) => r(Images, "images.export", None),
        ("POST", ["images", "create"]) => r(Images, "images.pull", None),
        ("POST", ["images", "load"]) => r(Images, "images.load", None),
        ("POST", ["images", "prune"]) => r(Images, "images.prune", None),
        ("DELETE", ["images", ..]) if s.len() >= 2 => {
            r(Images, "images.delete", Some(&seg[1..].join("/")))
        }
        (m, ["images", .., last]) if s.len() >= 3 => {
            let name = seg[1..seg.len() - 1].join("/");
            let action = match (m, *last) {
                ("GET", "json") => "images.inspect",
                ("GET", "history") => "images.history",
                ("GET", "get") => "images.export",
                ("POST", "push") => "images.push",
                ("POST", "tag") => "images.tag",
                _ => return None,
            };
            r(Images, action, Some(&name))
        }
        ("GET", ["distribution", .., "json"]) if s.len() >= 3 => {
            r(Distribution, "distribution.inspect", None)
        }
        // Networks.
        ("GET", ["networks"]) => r(Networks, "networks.list", None),
        ("POST", ["networks", "create"]) => r(Networks, "networks.create", None),
        ("POST", ["networks", "prune"]) => r(Networks, "networks.prune", None),
        ("GET", ["networks", _]) => r(Networks, "networks.inspect", Some(&seg[1])),
        ("DELETE", ["networks", _]) => r(Networks, "networks.delete", Some(&seg[1])),
        ("POST", ["networks", _, "connect"]) => r(Networks, "networks.connect", Some(&seg[1])),
        ("POST", ["networks", _, "disconnect"]) => {
            r(Networks, "networks.disconnect", Some(&seg[1]))
        }
        // Volumes.
        ("GET", ["volumes"]) => r(Volumes, "volumes.list", None),
        ("POST", ["volumes", "create"]) => r(Volumes, "volumes.create", None),
        ("POST", ["volumes", "prune"]) => r(Volumes, "volumes.prune", None),
        ("GET", ["volumes", _]) => r(Volumes, "volumes.inspect", Some(&seg[1])),
        ("PUT", ["volumes", _]) => r(Volumes, "volumes.update", Some(&seg[1])),
        ("DELETE", ["volumes", _]) => r(Volumes, "volumes.delete", Some(&seg[1])),
        // Swarm objects: list/inspect reads, the rest writes.
        (
            m,
            [obj @ ("services" | "nodes" | "tasks" | "secrets" | "configs" | "plugins" | "swarm"), rest @ ..],
        ) => {
            // One table: the section, and its generic read and write actions.
            let (section, read, write) = match *obj {
                "services" => (Services, "services.read", "services.write"),
                "nodes" => (Nodes, "nodes.read", "nodes.write"),
                "tasks" => (Tasks, "tasks.read", "tasks.write"),
                "secrets" => (Secrets, "secrets.read", "secrets.write"),
                "configs" => (Configs, "configs.read", "configs.write"),
                "plugins" => (Plugins, "plugins.read", "plugins.write"),
                _ => (Swarm, "swarm.read", "swarm.write"),
            };
            let action = match (section, m, rest) {
                (Services, "POST", ["create"]) => "services.create",
                (Services, "POST", [_, "update"]) => "services.update",
                (Services, "GET", [_, "logs"]) => "services.logs",
                (Tasks, "GET", [_, "logs"]) => "tasks.logs",
                (Swarm, "POST", ["join"]) => "swarm.join",
                (Plugins, "POST", ["pull"]) => "plugins.pull",
                (Plugins, "POST", ["create"]) => "plugins.create",
                // Plugin names hold slashes (moby routes `{name:.*}`).
                (Plugins, "POST", [_, .., "enable"]) => "plugins.enable",
                (Plugins, "POST", [_, .., "set"]) => "plugins.set",
                (Plugins, "POST", [.., "upgrade"]) => "plugins.upgrade",
                (Plugins, "GET", ["privileges"]) => "plugins.privileges",
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

    fn c(m: &str, p: &str) -> Option<(Section, &'static str, Option<String>)> {
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
            Some((Section::Containers, "containers.list", None))
        );
        assert_eq!(
            c("GET", "/containers/abc/logs").map(|x| x.1),
            Some("containers.logs")
        );
        assert_eq!(
            c("GET", "/containers/abc/attach/ws").map(|x| x.1),
            Some("containers.attach_ws")
        );
        assert_eq!(
            c("POST", "/containers/abc/exec"),
            Some((Section::Exec, "exec.create", Some("abc".into())))
        );
        assert_eq!(
            c("PUT", "/containers/abc/archive").map(|x| x.1),
            Some("containers.archive_put")
        );
        assert_eq!(
            c("HEAD", "/containers/abc/archive").map(|x| x.1),
            Some("containers.archive_get")
        );
        assert_eq!(
            c("DELETE", "/containers/abc").map(|x| x.1),
            Some("containers.delete")
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
                "images.inspect",
                Some("library/nginx".into())
            ))
        );
        assert_eq!(
            c("DELETE", "/images/reg:5000/a/b:1").map(|x| x.2),
            Some(Some("reg:5000/a/b:1".into()))
        );
        assert_eq!(
            c("POST", "/images/create").map(|x| x.1),
            Some("images.pull")
        );
    }

    #[test]
    fn everything_else() {
        assert_eq!(c("HEAD", "/_ping").map(|x| x.0), Some(Section::Ping));
        assert_eq!(c("GET", "/events").map(|x| x.0), Some(Section::Events));
        assert_eq!(c("POST", "/exec/e1/start").map(|x| x.1), Some("exec.start"));
        assert_eq!(
            c("POST", "/services/create").map(|x| x.1),
            Some("services.create")
        );
        assert_eq!(c("GET", "/services/s1").map(|x| x.1), Some("services.read"));
        assert_eq!(c("POST", "/swarm/init").map(|x| x.1), Some("swarm.write"));
        assert_eq!(
            c("POST", "/volumes/create").map(|x| x.1),
            Some("volumes.create")
        );
        assert_eq!(c("GET", "/nothing"), None);
        assert_eq!(Section::from_var("containers"), Some(Section::Containers));
    }
}
