//! The image edge of `audit`: an image's config and history from dockerd,
//! and, for `--image`, the listing of its layers from `docker save`,
//! turned into the plain [`ImageFacts`] the pure image front end judges.
//!
//! The layers are read as one stream (`GET /images/{name}/get`), never
//! written to disk and never unpacked: for each file of each layer tar,
//! its path, mode, type and link target are kept, and a regular file of up
//! to 64 KiB is searched for a PEM private key header. Both save layouts
//! are read: dockerd 20.10's (`<id>/layer.tar`, `<config>.json`) and the
//! OCI one of 25+ (`blobs/sha256/<hex>`); `manifest.json` says which entry
//! is the config and the order of the layers, whatever order the tar has
//! them in. The history then comes from the config, where each step says
//! whether it made a layer (the API's history does not).

use dockward_audit::image::{clean, FileEntry, FileKind, HistoryStep, ImageFacts, Layer};
use dockward_docker::{Endpoint, Engine, EngineError};
use futures_util::TryStreamExt;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

/// All the JSON entries of a save (manifest, configs, index) together.
const JSON_BUDGET: u64 = 64 * 1024 * 1024;

/// How much of a small file is searched for a private key.
const KEY_SCAN: u64 = 64 * 1024;

/// Reads `name`'s facts; `layers` also reads its layers (a `docker save`
/// stream as large as the image).
pub async fn read(engine: &Engine, name: &str, layers: bool) -> Result<ImageFacts, EngineError> {
    let d = engine.docker();
    let err = |what: &str| {
        let endpoint = engine.endpoint().clone();
        let what = what.to_string();
        move |e| EngineError::from_bollard(&endpoint, &what, e)
    };
    // The client's cached inspect: under --host the snapshot has made it.
    let config = engine
        .images(&[name.to_string()])
        .await?
        .remove(name)
        .ok_or_else(|| EngineError::Api {
            url: engine.endpoint().url.clone(),
            call: format!("GET /images/{name}/json"),
            detail: format!("No such image: {name}"),
        })?;
    let mut facts = ImageFacts {
        name: name.to_string(),
        id: config.id,
        user: config.user,
        env: config.env,
        exposed: config.exposed,
        healthcheck: config.healthcheck,
        onbuild: config.onbuild,
        history: Vec::new(),
        layers: None,
    };
    if layers {
        let stream = d.export_image(name).map_err(std::io::Error::other);
        let reader = tokio_util::io::StreamReader::new(stream);
        let endpoint = engine.endpoint().clone();
        let what = format!("GET /images/{name}/get");
        let saved = tokio::task::spawn_blocking(move || {
            let sync = tokio_util::io::SyncIoBridge::new(reader);
            read_save(sync)
        })
        .await
        .map_err(|e| save_error(&endpoint, &what, &e.to_string()))?
        .map_err(|e| save_error(&endpoint, &what, &e))?;
        facts.history = saved.history;
        facts.layers = Some(saved.layers);
    } else {
        let mut h = d
            .image_history(name)
            .await
            .map_err(err(&format!("GET /images/{name}/history")))?;
        // Newest first from the API.
        h.reverse();
        facts.history = h
            .into_iter()
            .map(|s| HistoryStep {
                empty_layer: s.size == 0,
                created_by: s.created_by,
            })
            .collect();
    }
    Ok(facts)
}

fn save_error(endpoint: &Endpoint, what: &str, e: &str) -> EngineError {
    EngineError::Api {
        url: endpoint.url.clone(),
        call: what.to_string(),
        detail: format!("the saved image could not be read: {e}"),
    }
}

/// What a `docker save` stream holds, in the image's order.
#[derive(Debug, Default)]
pub struct Saved {
    pub history: Vec<HistoryStep>,
    pub layers: Vec<Layer>,
}

#[derive(serde::Deserialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
struct ConfigBlob {
    #[serde(default)]
    history: Vec<ConfigHistory>,
    #[serde(default)]
    rootfs: RootFs,
}

#[derive(serde::Deserialize, Default)]
struct ConfigHistory {
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    empty_layer: bool,
}

#[derive(serde::Deserialize, Default)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// Reads a `docker save` tar of one image.
pub fn read_save(r: impl Read) -> Result<Saved, String> {
    let mut outer = tar::Archive::new(r);
    let mut json: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut json_bytes = 0u64;
    // A layer that cannot be read is an error only if the manifest lists
    // it (other blobs may be anything).
    let mut listings: BTreeMap<String, Result<Vec<FileEntry>, String>> = BTreeMap::new();
    for entry in outer.entries().map_err(|e| format!("not a tar: {e}"))? {
        let entry = entry.map_err(|e| format!("bad tar entry: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("bad tar path: {e}"))?
            .to_string_lossy()
            .into_owned();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let size = entry.header().size().unwrap_or(0);
        let mut buf = BufReader::with_capacity(64 * 1024, entry);
        let peek = buf.fill_buf().map_err(|e| e.to_string())?;
        let is_json = peek.first() == Some(&b'{') || peek.first() == Some(&b'[');
        if is_json {
            // Manifests and configs are kilobytes: a stream that holds
            // more JSON than this is refused, not buffered (the image's
            // contents are anyone's).
            json_bytes += size;
            if json_bytes > JSON_BUDGET {
                return Err(format!(
                    "more than {} MiB of JSON entries: not an image save",
                    JSON_BUDGET >> 20
                ));
            }
            let mut v = Vec::new();
            buf.read_to_end(&mut v).map_err(|e| e.to_string())?;
            json.insert(path, v);
        } else if path.ends_with("layer.tar") || path.starts_with("blobs/") {
            // The containerd image store saves layers as the registry
            // served them: gzip is read, anything else is named.
            let listing = match peek {
                [0x1f, 0x8b, ..] => list_layer(flate2::read::GzDecoder::new(buf)),
                [0x28, 0xb5, 0x2f, 0xfd, ..] => {
                    Err("a zstd-compressed layer, which dockward does not read yet".to_string())
                }
                _ => list_layer(buf),
            };
            listings.insert(path, listing);
        }
    }
    let manifest: Vec<ManifestEntry> = json
        .get("manifest.json")
        .ok_or("no manifest.json in the saved image")
        .and_then(|b| serde_json::from_slice(b).map_err(|_| "manifest.json is not valid"))?;
    let m = manifest.first().ok_or("manifest.json lists no image")?;
    let config: ConfigBlob = json
        .get(&m.config)
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| format!("the image config {} is missing or invalid", m.config))?;
    let mut layers = Vec::new();
    for (i, p) in m.layers.iter().enumerate() {
        let files = match listings.remove(p) {
            Some(Ok(files)) => files,
            Some(Err(e)) => return Err(format!("layer {p}: {e}")),
            None => {
                return Err(format!(
                    "layer {p} is listed in manifest.json but not in the stream"
                ))
            }
        };
        layers.push(Layer {
            digest: config
                .rootfs
                .diff_ids
                .get(i)
                .cloned()
                .unwrap_or_else(|| p.clone()),
            files,
        });
    }
    let history = config
        .history
        .into_iter()
        .map(|h| HistoryStep {
            created_by: h.created_by,
            empty_layer: h.empty_layer,
        })
        .collect();
    Ok(Saved { history, layers })
}

/// The files of one layer tar.
fn list_layer(r: impl Read) -> Result<Vec<FileEntry>, String> {
    let mut out = Vec::new();
    let mut layer = tar::Archive::new(r);
    for entry in layer.entries().map_err(|e| format!("bad layer: {e}"))? {
        let mut entry = entry.map_err(|e| format!("bad layer entry: {e}"))?;
        let h = entry.header();
        let path = match entry.path() {
            Ok(p) => clean(&format!("/{}", p.to_string_lossy())),
            Err(_) => continue,
        };
        let t = h.entry_type();
        let kind = if t.is_file() {
            FileKind::File
        } else if t.is_dir() {
            FileKind::Dir
        } else if t.is_symlink() {
            FileKind::Symlink
        } else {
            FileKind::Other
        };
        let mode = h.mode().unwrap_or(0);
        let link = entry
            .link_name()
            .ok()
            .flatten()
            .map(|l| l.to_string_lossy().into_owned());
        let size = h.size().unwrap_or(0);
        let mut private_key = false;
        if kind == FileKind::File && size > 0 && size <= KEY_SCAN {
            let mut v = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            if (&mut entry).take(KEY_SCAN).read_to_end(&mut v).is_ok() {
                private_key = v.windows(16).any(|w| w == b"PRIVATE KEY-----");
            }
        }
        out.push(FileEntry {
            path,
            mode,
            kind,
            link,
            private_key,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data, mode) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn a_saved_image_in_either_layout_reads_in_manifest_order() {
        let l1 = tar_of(&[("usr/bin/su", b"x", 0o4755)]);
        let l2 = tar_of(&[("srv/k.pem", b"-----BEGIN RSA PRIVATE KEY-----\nabc", 0o600)]);
        let config = br#"{"history":[{"created_by":"ADD x /"},{"created_by":"ENV A=1","empty_layer":true},{"created_by":"COPY k /srv"}],"rootfs":{"diff_ids":["sha256:one","sha256:two"]}}"#;
        for (cfg, p1, p2) in [
            ("abc.json", "l1/layer.tar", "l2/layer.tar"),
            ("blobs/sha256/cc", "blobs/sha256/aa", "blobs/sha256/bb"),
        ] {
            let manifest = format!(r#"[{{"Config":"{cfg}","Layers":["{p1}","{p2}"]}}]"#);
            // The second layer first: the manifest decides the order.
            let save = tar_of(&[
                (p2, &l2, 0o644),
                ("manifest.json", manifest.as_bytes(), 0o644),
                (p1, &l1, 0o644),
                (cfg, config, 0o644),
            ]);
            let s = read_save(&save[..]).unwrap();
            assert_eq!(s.layers.len(), 2);
            assert_eq!(s.layers[0].digest, "sha256:one");
            assert_eq!(s.layers[0].files[0].path, "/usr/bin/su");
            assert_eq!(s.layers[0].files[0].mode, 0o4755);
            assert!(s.layers[1].files[0].private_key);
            assert_eq!(s.history.len(), 3);
            assert!(s.history[1].empty_layer);
        }
    }

    #[test]
    fn gzip_layers_are_read_and_a_missing_or_unknown_layer_is_an_error() {
        use std::io::Write;
        let layer = tar_of(&[("bin/su", b"x", 0o4755)]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&layer).unwrap();
        let gz = gz.finish().unwrap();
        let config = br#"{"history":[],"rootfs":{"diff_ids":["sha256:one"]}}"#;
        let manifest = br#"[{"Config":"blobs/sha256/c","Layers":["blobs/sha256/l"]}]"#;
        let save = tar_of(&[
            ("blobs/sha256/l", &gz, 0o644),
            ("blobs/sha256/c", config, 0o644),
            ("manifest.json", manifest, 0o644),
        ]);
        let s = read_save(&save[..]).unwrap();
        assert_eq!(s.layers[0].files[0].mode, 0o4755);
        let zstd = tar_of(&[
            ("blobs/sha256/l", &[0x28, 0xb5, 0x2f, 0xfd, 0, 0], 0o644),
            ("blobs/sha256/c", config, 0o644),
            ("manifest.json", manifest, 0o644),
        ]);
        assert!(read_save(&zstd[..]).unwrap_err().contains("zstd"));
        let missing = tar_of(&[
            ("blobs/sha256/c", config, 0o644),
            ("manifest.json", manifest, 0o644),
        ]);
        assert!(read_save(&missing[..])
            .unwrap_err()
            .contains("not in the stream"));
    }

    #[test]
    fn a_stream_of_json_is_refused_not_buffered() {
        let mut big = vec![b' '; 33 << 20];
        big[0] = b'{';
        let save = tar_of(&[("a.json", &big, 0o644), ("b.json", &big, 0o644)]);
        assert!(read_save(&save[..]).unwrap_err().contains("MiB of JSON"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_save(&b"not a tar at all"[..]).is_err());
        let save = tar_of(&[("manifest.json", b"[]", 0o644)]);
        assert!(read_save(&save[..]).is_err());
    }
}
