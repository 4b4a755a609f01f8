//! `firewall plan` as text: one row per published container port, then the
//! isolated networks and what cannot be filtered. Colour (only on a
//! terminal) marks the verdict; the words carry the meaning without it.

use comfy_table::{presets, Cell, Color, ContentArrangement, Table};
use dockward_firewall::plan::Plan;
use dockward_firewall::policy::Source;
use dockward_model::Reach;
use std::fmt::Write;

fn source(s: &Source) -> String {
    match s {
        Source::Label(l) => format!("label {l}"),
        Source::File(f) => format!("file {f}"),
        Source::Default => "default stance".into(),
        Source::Invalid(_) => "closed: a bad label (see the warning)".into(),
    }
}

fn colour_of(verdict: &Reach) -> Color {
    match verdict {
        Reach::Public => Color::Red,
        Reach::From(_) => Color::Yellow,
        Reach::LocalOnly | Reach::Blocked => Color::Green,
    }
}

pub(super) fn plan_text(p: &Plan, colour: bool) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(
            [
                "CONTAINER",
                "PORT",
                "PUBLISHED ON",
                "VERDICT",
                "FROM",
                "IN FORCE NOW",
            ]
            .map(Cell::new),
        );
    if colour {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    for r in &p.ports {
        let verdict = Cell::new(r.verdict.to_string());
        let verdict = if colour {
            verdict.fg(colour_of(&r.verdict))
        } else {
            verdict
        };
        let now = match (&r.now, r.running) {
            (_, false) => "(stopped: applies on start)".to_string(),
            (Some(n), _) if r.change => format!("{n} (changes)"),
            (Some(n), _) => n.to_string(),
            (None, true) => "(no entry: changes)".into(),
        };
        t.add_row(vec![
            Cell::new(&r.container),
            Cell::new(format!("{}/{}", r.container_port, r.protocol)),
            Cell::new(r.bindings.join(" ")),
            verdict,
            Cell::new(source(&r.source)),
            Cell::new(now),
        ]);
    }
    let mut s = String::new();
    if p.ports.is_empty() {
        s.push_str("No published ports.\n");
    } else {
        let _ = writeln!(s, "{}", t.to_string().trim_end());
    }
    for iso in &p.isolated {
        let allowed = if iso.allow.is_empty() {
            "none".to_string()
        } else {
            iso.allow
                .iter()
                .map(|(a, b)| format!("{a} → {b}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "\nNetwork {} is isolated: containers cannot reach each other; allowed: {allowed}",
            iso.network
        );
    }
    s.push_str("\nCannot be filtered:\n");
    for u in &p.unfilterable {
        let _ = writeln!(s, "  - {u}");
    }
    let _ = writeln!(
        s,
        "\n{} port(s); {} would change; default stance: {}; dockward table {}.",
        p.ports.len(),
        p.changes,
        match p.stance {
            dockward_firewall::Stance::Local => "local",
            dockward_firewall::Stance::Deny => "deny",
            dockward_firewall::Stance::Public => "public",
        },
        if p.table_present {
            "installed"
        } else {
            "not installed (apply creates it)"
        }
    );
    s
}
