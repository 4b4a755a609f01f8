//! The docker-proxy guard: dockerd's cgroup and its own listeners, found
//! on this host (see `dockward_firewall::cgroup` for why by cgroup, and
//! `dockward_hostprobe::listeners` for why by socket).

/// dockerd's cgroup for the docker-proxy guard, or why there is none.
pub use dockward_hostprobe::guard::Guard;

/// Find the local dockerd serving `config`'s endpoint and its cgroup (see
/// `dockward_firewall::cgroup` for why).
pub fn detect_guard(endpoint: &str) -> Guard {
    detect(endpoint).0
}

/// dockerd's pid and the ports it held when the guard was made: `watch`
/// makes the guard again when they change (a swarm joined or left).
pub type Listening = Option<(u32, Vec<(dockward_model::Protocol, u16)>)>;

/// The guard, and what dockerd listened on when it was made.
pub fn detect(endpoint: &str) -> (Guard, Listening) {
    use dockward_hostprobe::{dockerd, guard, listeners, Real};
    let Some(d) = dockerd::find(&Real, endpoint) else {
        return (
            Err("no dockerd serving this endpoint runs on this host".into()),
            None,
        );
    };
    // Its own listeners by the sockets it holds: the API, Swarm's, metrics.
    let listening = listeners::listening(&Real, d.pid);
    (
        guard::guard(&Real, &d, &listening),
        Some((d.pid, listening)),
    )
}

/// The iptables backend takes its docker-proxy guard from nftables (an
/// `inet` table with the input side only): iptables has no match for the
/// owner of a listening socket in INPUT (`-m cgroup` sees only
/// early-demuxed sockets). Without the nft program there is none.
pub const IPT_NO_GUARD: &str =
    "the iptables backend without the nft program cannot match a listening socket's owner";

/// What `plan` says when docker-proxy's sockets cannot be told apart.
pub fn guard_note(guard: &Guard) -> Option<String> {
    guard.as_ref().err().map(|why| {
        format!("docker-proxy's listeners are not guarded, because {why}: over IPv4, what reaches them without Docker's DNAT (broadcast or multicast UDP, a flow older than the port, a container connecting to a host address) gets Docker's behaviour whatever the verdict; over IPv6 (dockerd without ip6tables) a container that just started is reachable until `watch` adds its entry. `userland-proxy: false` in daemon.json removes docker-proxy and these doors with it")
    })
}
