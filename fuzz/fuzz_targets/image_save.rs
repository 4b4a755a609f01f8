//! Image front end: any `docker save` stream (image layers come from
//! anyone) is read or refused, never a panic; and any recorded history
//! reads back into a Dockerfile and is audited without a panic.
#![no_main]
use dockward_audit::image::{audit_image, HistoryStep, ImageFacts};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(s) = dockward_auditctl::image::read_save(data) {
        let facts = ImageFacts {
            history: s.history,
            layers: Some(s.layers),
            env: vec!["PATH=/bin:/usr/bin".into()],
            ..ImageFacts::default()
        };
        let _ = audit_image(&facts);
    }
    let text = String::from_utf8_lossy(data);
    let facts = ImageFacts {
        history: text
            .lines()
            .map(|l| HistoryStep {
                created_by: l.to_string(),
                empty_layer: l.len() % 2 == 0,
            })
            .collect(),
        onbuild: text.lines().take(2).map(str::to_string).collect(),
        env: text.lines().take(2).map(str::to_string).collect(),
        ..ImageFacts::default()
    };
    let _ = audit_image(&facts);
});
