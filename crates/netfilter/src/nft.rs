//! [`Netfilter`] over the `nft` and `conntrack` programs.

use crate::{Conn, Netfilter, NetfilterError};
use std::io::Write;
use std::process::{Command, Stdio};

/// The real kernel, through `nft` and `conntrack` on PATH.
#[derive(Debug, Default, Clone)]
pub struct NftCli;

fn spawn_err(program: &str) -> impl Fn(std::io::Error) -> NetfilterError + '_ {
    move |e| NetfilterError::Spawn {
        program: program.to_string(),
        cause: e.to_string(),
    }
}

/// Starts `program`, feeding `stdin` when given.
fn start(
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<std::process::Child, NetfilterError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err(program))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(spawn_err(program))?;
    }
    Ok(child)
}

pub(crate) fn run(
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<std::process::Output, NetfilterError> {
    start(program, args, stdin)?
        .wait_with_output()
        .map_err(spawn_err(program))
}

/// The output of a run that succeeded; a failure names `what` and carries
/// stderr on one line.
pub(crate) fn succeeded(
    what: &str,
    out: std::process::Output,
) -> Result<std::process::Output, NetfilterError> {
    if out.status.success() {
        Ok(out)
    } else {
        Err(NetfilterError::Refused {
            program: what.to_string(),
            stderr: one_line(&out.stderr),
        })
    }
}

fn one_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^' || c == ' ' || c == '~'))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn family(addr: &str) -> &'static str {
    if addr.contains(':') {
        "ipv6"
    } else {
        "ipv4"
    }
}

impl Netfilter for NftCli {
    fn apply(&mut self, script: &str) -> Result<(), NetfilterError> {
        let child = start("nft", &["-f", "-"], Some(script))?;
        let out = child.wait_with_output().map_err(spawn_err("nft"))?;
        succeeded("nft", out).map(|_| ())
    }

    fn has_table(&mut self, table: &str) -> Result<bool, NetfilterError> {
        let out = succeeded(
            "nft list tables",
            run("nft", &["list", "tables", "inet"], None)?,
        )?;
        let want = format!("table inet {table}");
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim() == want))
    }

    fn table_json(
        &mut self,
        family: &str,
        table: &str,
    ) -> Result<Option<serde_json::Value>, NetfilterError> {
        let out = run("nft", &["-j", "list", "table", family, table], None)?;
        if !out.status.success() {
            let err = one_line(&out.stderr);
            // "No such file or directory": the table is not there. Anything
            // else (not root, no nf_tables) must not pass for "absent".
            if err.contains("No such file or directory") {
                return Ok(None);
            }
            return Err(NetfilterError::Refused {
                program: "nft list table".into(),
                stderr: err,
            });
        }
        serde_json::from_slice(&out.stdout)
            .map(Some)
            .map_err(|e| NetfilterError::Output {
                program: "nft -j".into(),
                cause: e.to_string(),
            })
    }

    fn connections_to(
        &mut self,
        proto: &str,
        addr: &str,
        port: u16,
    ) -> Result<Vec<Conn>, NetfilterError> {
        let port = port.to_string();
        let out = run(
            "conntrack",
            &[
                "-L",
                "-f",
                family(addr),
                "-p",
                proto,
                "--reply-src",
                addr,
                "--reply-port-src",
                &port,
            ],
            None,
        )?;
        // conntrack exits 0 with "0 flow entries" on stderr when none match.
        Ok(crate::parse_entries(&String::from_utf8_lossy(&out.stdout)))
    }

    fn connections_to_local6(
        &mut self,
        proto: &str,
        port: u16,
    ) -> Result<Vec<Conn>, NetfilterError> {
        let port = port.to_string();
        let out = run(
            "conntrack",
            &["-L", "-f", "ipv6", "-p", proto, "--orig-port-dst", &port],
            None,
        )?;
        Ok(crate::parse_entries(&String::from_utf8_lossy(&out.stdout)))
    }

    fn connections(&mut self) -> Result<Vec<Conn>, NetfilterError> {
        // One file read for both families where the kernel offers it
        // (two process spawns, ~4 ms, are most of a sweep's cost).
        if let Ok(text) = std::fs::read_to_string("/proc/net/nf_conntrack") {
            return Ok(crate::parse_entries(&text));
        }
        let mut all = Vec::new();
        for family in ["ipv4", "ipv6"] {
            let out = run("conntrack", &["-L", "-f", family], None)?;
            if !out.status.success() {
                return Err(NetfilterError::Refused {
                    program: "conntrack -L".into(),
                    stderr: one_line(&out.stderr),
                });
            }
            all.extend(crate::parse_entries(&String::from_utf8_lossy(&out.stdout)));
        }
        Ok(all)
    }

    fn host_addresses(&mut self) -> Result<Vec<std::net::IpAddr>, NetfilterError> {
        if let (Ok(fib), Ok(v6)) = (
            std::fs::read_to_string("/proc/net/fib_trie"),
            std::fs::read_to_string("/proc/net/if_inet6"),
        ) {
            return Ok(crate::conntrack::proc_addresses(&fib, &v6));
        }
        let out = run("ip", &["-j", "address", "show"], None)?;
        if !out.status.success() {
            return Err(NetfilterError::Refused {
                program: "ip address".into(),
                stderr: one_line(&out.stderr),
            });
        }
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| NetfilterError::Output {
                program: "ip -j address".into(),
                cause: e.to_string(),
            })?;
        Ok(crate::conntrack::addresses(&v))
    }

    fn cut(&mut self, c: &Conn) -> Result<(), NetfilterError> {
        let (sport, dport) = (c.sport.to_string(), c.dport.to_string());
        let out = run(
            "conntrack",
            &[
                "-D",
                "-f",
                family(&c.src),
                "-p",
                &c.proto,
                "--orig-src",
                &c.src,
                "--orig-dst",
                &c.dst,
                "--sport",
                &sport,
                "--dport",
                &dport,
            ],
            None,
        )?;
        if out.status.success() {
            Ok(())
        } else {
            let err = one_line(&out.stderr);
            // Gone already (closed meanwhile): that is what we wanted.
            if err.contains("0 flow entries") {
                return Ok(());
            }
            Err(NetfilterError::Refused {
                program: "conntrack -D".into(),
                stderr: err,
            })
        }
    }
}
