//! Throwaway TLS material for tests, made with the `openssl` program: a
//! CA in `dir` (`ca.pem`, `ca-key.pem`) and certificates it signs
//! (`<who>.pem`, `<who>-key.pem`), valid two days.

use std::path::Path;
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        o.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `ca.pem` and `ca-key.pem` in `dir`, subject `/CN=<cn>`.
pub fn ca(dir: &Path, cn: &str) {
    let subj = format!("/CN={cn}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &subj,
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
        ],
    );
}

/// `<who>.pem` and `<who>-key.pem` signed by the CA in `dir`, subject
/// `/CN=<cn>`, with these X.509 extensions (extfile lines).
pub fn signed(dir: &Path, who: &str, cn: &str, extensions: &str) {
    let ext = format!("{who}.ext");
    std::fs::write(dir.join(&ext), extensions).expect("write the extensions");
    let (key, csr, pem) = (
        format!("{who}-key.pem"),
        format!("{who}.csr"),
        format!("{who}.pem"),
    );
    let subj = format!("/CN={cn}");
    openssl(
        dir,
        &[
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", &subj, "-keyout", &key, "-out", &csr,
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
    );
}
