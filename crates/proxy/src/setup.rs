//! What `dockward proxy` starts from besides its flags: the environment
//! (over `DOCKWARD_ENV_FILE`, read again on SIGHUP), the policy in force
//! (a file, learning mode, or tecnativa-style variables), and what
//! learning mode writes at the end.

use crate::serve::{Learner, Options};
use dockward_apiguard::{Active, Policy, PolicyFile};
use std::collections::BTreeMap;

/// `KEY=VALUE` lines (comments and blanks skipped) over `base` (the
/// process environment, captured once by the binary), read again on
/// SIGHUP reloads.
pub fn env_with_file(
    base: &BTreeMap<String, String>,
    path: Option<&str>,
) -> Result<BTreeMap<String, String>, String> {
    let mut env = base.clone();
    if let Some(p) = path {
        let text = std::fs::read_to_string(p)
            .map_err(|e| format!("DOCKWARD_ENV_FILE {p}: cannot read it ({e})"))?;
        for (n, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (k, v) = l
                .split_once('=')
                .ok_or_else(|| format!("{p}:{}: write KEY=VALUE", n + 1))?;
            env.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    Ok(env)
}

/// The policy in force: the file, learning mode, or the environment.
pub fn load(
    config: Option<&std::path::Path>,
    learn: bool,
    env: &BTreeMap<String, String>,
) -> Result<Active, String> {
    if learn {
        return Ok(Active::learning());
    }
    match config {
        Some(p) => {
            let shown = p.display().to_string();
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("--config {shown}: cannot read it ({e})"))?;
            PolicyFile::parse(&shown, &text).map(Active::File)
        }
        None => Policy::from_env(env).map(Active::One),
    }
}

/// The learned clients as a policy file, one [[policy]] per client.
pub fn learned_toml(
    learned: &BTreeMap<Learner, std::collections::BTreeSet<dockward_apiguard::Action>>,
) -> String {
    let mut out = String::from("# Written by `dockward proxy --learn`: what each client used.\n");
    for (i, (client, used)) in learned.iter().enumerate() {
        let who = match (&client.uid, &client.addr) {
            (Some(uid), _) => format!("uid {uid}"),
            (None, Some(a)) => a.clone(),
            (None, None) => "a client".to_string(),
        };
        out.push_str(&format!("\n# {who} on {}\n", client.listener));
        let uids: Vec<u32> = client.uid.into_iter().collect();
        out.push_str(&dockward_apiguard::file::minimal(
            &format!("client-{}", i + 1),
            std::slice::from_ref(&client.listener),
            &uids,
            used,
        ));
    }
    out
}

/// Write what `--learn` saw to `path`, and say so on stderr.
pub fn write_learned(opts: &Options, path: &std::path::Path) {
    let Some(l) = &opts.learned else { return };
    let text = match l.lock() {
        Ok(g) => learned_toml(&g),
        Err(e) => learned_toml(&e.into_inner()),
    };
    match std::fs::write(path, text) {
        Ok(()) => eprintln!(
            "dockward proxy: learned policy written to {}",
            path.display()
        ),
        Err(e) => eprintln!("dockward proxy: cannot write {}: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "dockward-setup-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn the_env_file_over_the_environment_and_its_errors_named() {
        let p = file("# comment\n\nCONTAINERS=1\nPOST = \"0\"\n");
        let env = env_with_file(&BTreeMap::new(), p.to_str()).unwrap();
        assert_eq!(env.get("CONTAINERS").map(String::as_str), Some("1"));
        assert_eq!(env.get("POST").map(String::as_str), Some("0"));
        let _ = std::fs::remove_file(&p);
        let p = file("CONTAINERS=1\nnot a setting\n");
        let e = env_with_file(&BTreeMap::new(), p.to_str()).unwrap_err();
        assert!(e.ends_with(":2: write KEY=VALUE"), "{e}");
        let _ = std::fs::remove_file(&p);
        let e = env_with_file(&BTreeMap::new(), Some("/nonexistent/dockward.env")).unwrap_err();
        assert!(
            e.starts_with("DOCKWARD_ENV_FILE /nonexistent/dockward.env"),
            "{e}"
        );
    }

    #[test]
    fn learning_mode_wins_over_the_environment() {
        let env: BTreeMap<String, String> = [("CONTAINERS".to_string(), "1".to_string())].into();
        let learning = load(None, true, &env).unwrap();
        assert_eq!(format!("{learning:?}"), format!("{:?}", Active::learning()));
        assert!(matches!(load(None, false, &env), Ok(Active::One(_))));
        assert!(
            load(Some(std::path::Path::new("/nonexistent.toml")), false, &env)
                .unwrap_err()
                .starts_with("--config /nonexistent.toml: cannot read it")
        );
    }
}
