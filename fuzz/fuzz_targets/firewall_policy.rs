//! Firewall policy: the TOML file and container labels, which anyone who
//! can start a container controls. Input: the file's text, then a NUL,
//! then `key=value` label lines.
#![no_main]
use dockward_model::{Container, ContainerState, Inventory};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (file, labels) = text.split_once('\0').unwrap_or((&text, ""));
    let _ = dockward_firewall::policy::parse_expose(labels);
    let Ok(policy) = dockward_firewall::policy::parse_file("fuzz.toml", file) else {
        return;
    };
    let mut c = Container {
        id: "0".repeat(64),
        name: "fuzz".into(),
        state: ContainerState::Running,
        ..Container::default()
    };
    for line in labels.lines() {
        if let Some((k, v)) = line.split_once('=') {
            c.labels.insert(k.to_string(), v.to_string());
        }
    }
    // Once with every label the container's own, once with every label
    // possibly its image's (the image's labels unknown).
    let mut own = c.clone();
    own.image_labels = Some(Default::default());
    let inv = Inventory {
        containers: vec![own, c],
        ..Inventory::default()
    };
    let _ = dockward_firewall::policy::resolve(&inv, &policy);
});
