//! `dockward generate-docs DIR` (hidden): the man pages and shell
//! completions, made from the same clap definitions as `--help`, so the
//! package never ships a page that disagrees with the binary. clap_mangen
//! and clap_complete do the formatting.

use crate::cli::Cli;
use crate::{error_line, exit};
use clap::CommandFactory;
use std::path::Path;

pub(crate) fn run(dir: &Path) -> u8 {
    match write_all(dir) {
        Ok(n) => {
            println!("wrote {n} file(s) into {}", dir.display());
            exit::OK
        }
        Err(e) => {
            error_line("generate-docs", &format!("{}: {e}", dir.display()));
            exit::INTERNAL
        }
    }
}

fn write_all(dir: &Path) -> std::io::Result<usize> {
    let man = dir.join("man");
    let completions = dir.join("completions");
    std::fs::create_dir_all(&man)?;
    std::fs::create_dir_all(&completions)?;
    let mut cmd = Cli::command();
    cmd.build();
    let mut n = 0;
    // dockward.1, dockward-firewall.1, dockward-firewall-allow.1, …
    let mut todo = vec![(String::from("dockward"), cmd.clone())];
    while let Some((name, c)) = todo.pop() {
        if c.is_hide_set() {
            continue;
        }
        for sub in c.get_subcommands() {
            if sub.get_name() != "help" {
                todo.push((format!("{name}-{}", sub.get_name()), sub.clone()));
            }
        }
        let mut buf = Vec::new();
        clap_mangen::Man::new(c.clone())
            .title(name.to_uppercase())
            .render(&mut buf)?;
        std::fs::write(man.join(format!("{name}.1")), buf)?;
        n += 1;
    }
    for shell in [
        clap_complete::Shell::Bash,
        clap_complete::Shell::Zsh,
        clap_complete::Shell::Fish,
    ] {
        clap_complete::generate_to(shell, &mut cmd, "dockward", &completions)?;
        n += 1;
    }
    Ok(n)
}
