//! `dockward --version` says which commit it was built from: `git describe`
//! when the source is a git checkout, `DOCKWARD_GIT` when the packager
//! sets it (a source tarball has no .git), else "unknown".

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=DOCKWARD_GIT");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for f in [".git/HEAD", ".git/index"] {
        let p = root.join(f);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    let described = std::env::var("DOCKWARD_GIT").ok().or_else(|| {
        let out = Command::new("git")
            .current_dir(&root)
            .args(["describe", "--always", "--dirty", "--abbrev=12"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    });
    println!(
        "cargo:rustc-env=DOCKWARD_GIT={}",
        described.as_deref().unwrap_or("unknown")
    );
}
