//! PEM files for dockward's TLS, read the same way on both sides: the
//! proxy's listeners (`--tls-cert`, `--tls-key`, `--tls-client-ca`) and a
//! Swarm worker's firewall asking its managers' proxy. Both may be handed
//! a Swarm node's own files (`<data-root>/swarm/certificates`), and
//! swarmkit writes RFC 1421 header lines into its key's PEM block
//! (`kek-version: 0`, `raft-dek: …`), which RFC 7468 parsers (rustls'
//! included) refuse. Header lines hold a `:`, base64 never does: they are
//! dropped, the key itself is untouched.
//!
//! Errors are one line naming `what` (the flag or setting) and the path.

#![forbid(unsafe_code)]

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

/// Every certificate in `path`; none is an error.
pub fn certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let v: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{what} {}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if v.is_empty() {
        return Err(format!(
            "{what} {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(v)
}

/// The private key in `path`, RFC 1421 header lines dropped.
pub fn key(path: &Path, what: &str) -> Result<PrivateKeyDer<'static>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    PrivateKeyDer::from_pem_slice(without_headers(&text).as_bytes())
        .map_err(|e| format!("{what} {}: {e}", path.display()))
}

fn without_headers(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains(':') && !l.trim().is_empty())
        .flat_map(|l| [l, "\n"])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swarmkit_key_headers_are_dropped() {
        let pem = "-----BEGIN PRIVATE KEY-----\nkek-version: 0\nraft-dek: CAESMBx=\n\nMIGH\nAgEA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            without_headers(pem),
            "-----BEGIN PRIVATE KEY-----\nMIGH\nAgEA\n-----END PRIVATE KEY-----\n"
        );
    }

    #[test]
    fn errors_name_the_setting_and_the_path() {
        let e = certs(Path::new("/nonexistent.crt"), "--tls-cert").unwrap_err();
        assert!(e.starts_with("--tls-cert /nonexistent.crt"), "{e}");
        let e = key(Path::new("/nonexistent.key"), "--tls-key").unwrap_err();
        assert!(e.starts_with("--tls-key /nonexistent.key"), "{e}");
    }
}
