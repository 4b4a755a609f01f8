//! Just enough of a POSIX shell lexer to find the commands a RUN step runs:
//! it splits text into simple commands at `;`, `&`, `|`, `&&`, `||`, newlines,
//! parentheses, `$(` and backquotes, keeps quoted strings whole (so
//! `echo "use sudo"` is one argument), drops comments, redirection targets
//! and the bodies of nested heredocs, and understands the Dockerfile line
//! continuation (escape character before a newline, comment lines inside a
//! continued instruction). It is not a shell: it never expands anything.

/// One word of a simple command; `offset` is a byte offset into the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub offset: usize,
    pub text: String,
}

struct Lexer<'a> {
    chars: Vec<(usize, char)>,
    src: &'a str,
    /// `Some(escape)` for RUN text straight from a Dockerfile.
    docker_escape: Option<char>,
    i: usize,
    cmds: Vec<Vec<Word>>,
    cur: Vec<Word>,
    word: Option<Word>,
    redirect_target: bool,
    pending_heredocs: Vec<(String, bool)>,
    /// Indexes into `cmds` of commands whose output a `|` pipes on.
    pipes: Vec<usize>,
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).map(|&(_, c)| c)
    }

    fn offset(&self) -> usize {
        self.chars.get(self.i).map_or(self.src.len(), |&(o, _)| o)
    }

    fn push_char(&mut self, c: char) {
        let offset = self.offset();
        self.word
            .get_or_insert_with(|| Word {
                offset,
                text: String::new(),
            })
            .text
            .push(c);
    }

    /// Starts a (possibly empty) word here, for quotes.
    fn touch_word(&mut self) {
        let offset = self.offset();
        self.word.get_or_insert_with(|| Word {
            offset,
            text: String::new(),
        });
    }

    fn end_word(&mut self) {
        if let Some(w) = self.word.take() {
            if self.redirect_target {
                self.redirect_target = false;
            } else {
                self.cur.push(w);
            }
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        self.redirect_target = false;
        if !self.cur.is_empty() {
            self.cmds.push(std::mem::take(&mut self.cur));
        }
    }

    /// At the Dockerfile escape character: if only blanks follow it up to
    /// the newline, it is a line continuation. Skips it and any comment or
    /// empty lines after it, as Docker does, and returns true.
    fn docker_continuation(&mut self) -> bool {
        let Some(esc) = self.docker_escape else {
            return false;
        };
        if self.peek(0) != Some(esc) {
            return false;
        }
        let mut k = 1;
        while matches!(self.peek(k), Some(' ' | '\t' | '\r')) {
            k += 1;
        }
        if self.peek(k) != Some('\n') {
            return false;
        }
        self.i += k + 1;
        loop {
            let mut j = 0;
            while matches!(self.peek(j), Some(' ' | '\t' | '\r')) {
                j += 1;
            }
            match self.peek(j) {
                Some('#') | Some('\n') => {
                    while !matches!(self.peek(0), None | Some('\n')) {
                        self.i += 1;
                    }
                    self.i += 1;
                }
                _ => break,
            }
        }
        true
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek(0) {
            if self.docker_continuation() {
                continue;
            }
            if c == '\n' {
                return;
            }
            self.i += 1;
        }
    }

    fn single_quoted(&mut self) {
        self.touch_word();
        self.i += 1;
        while let Some(c) = self.peek(0) {
            self.i += 1;
            if c == '\'' {
                return;
            }
            if let Some(w) = self.word.as_mut() {
                w.text.push(c);
            }
        }
    }

    fn double_quoted(&mut self) {
        self.touch_word();
        self.i += 1;
        while let Some(c) = self.peek(0) {
            if self.docker_continuation() {
                continue;
            }
            self.i += 1;
            let ch = match c {
                '"' => return,
                '\\' => match self.peek(0) {
                    Some('\n') => {
                        self.i += 1;
                        continue;
                    }
                    Some(n @ ('"' | '\\' | '$' | '`')) => {
                        self.i += 1;
                        n
                    }
                    _ => '\\',
                },
                c => c,
            };
            if let Some(w) = self.word.as_mut() {
                w.text.push(ch);
            }
        }
    }

    /// After `<<`: reads the delimiter and remembers to skip the body.
    fn heredoc_marker(&mut self) {
        self.i += 2;
        let strip_tabs = self.peek(0) == Some('-');
        if strip_tabs {
            self.i += 1;
        }
        while matches!(self.peek(0), Some(' ' | '\t')) {
            self.i += 1;
        }
        let mut delim = String::new();
        while let Some(c) = self.peek(0) {
            if c.is_whitespace() || matches!(c, ';' | '&' | '|' | '<' | '>' | '(' | ')') {
                break;
            }
            if c != '\'' && c != '"' {
                delim.push(c);
            }
            self.i += 1;
        }
        if !delim.is_empty() {
            self.pending_heredocs.push((delim, strip_tabs));
        }
    }

    fn skip_heredoc_bodies(&mut self) {
        for (delim, strip_tabs) in std::mem::take(&mut self.pending_heredocs) {
            loop {
                let start = self.i;
                while !matches!(self.peek(0), None | Some('\n')) {
                    self.i += 1;
                }
                let line: String = self
                    .chars
                    .get(start..self.i)
                    .unwrap_or(&[])
                    .iter()
                    .map(|&(_, c)| c)
                    .collect();
                let at_end = self.peek(0).is_none();
                self.i += 1;
                let line = line.trim_end_matches('\r');
                let line = if strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                if line == delim || at_end {
                    break;
                }
            }
        }
    }

    fn run_in_place(&mut self) {
        while let Some(c) = self.peek(0) {
            if self.docker_continuation() {
                continue;
            }
            match c {
                ' ' | '\t' | '\r' => {
                    self.end_word();
                    self.i += 1;
                }
                '\n' => {
                    self.end_command();
                    self.i += 1;
                    self.skip_heredoc_bodies();
                }
                '|' if self.peek(1) != Some('|') => {
                    self.end_command();
                    if let Some(n) = self.cmds.len().checked_sub(1) {
                        self.pipes.push(n);
                    }
                    // `|&` pipes stderr too.
                    self.i += if self.peek(1) == Some('&') { 2 } else { 1 };
                }
                '|' => {
                    self.end_command();
                    self.i += 2;
                }
                ';' | '&' | '(' | ')' | '`' => {
                    self.end_command();
                    self.i += 1;
                }
                '$' if self.peek(1) == Some('(') => {
                    self.end_command();
                    self.i += 2;
                }
                '#' if self.word.is_none() => self.skip_comment(),
                '\'' => self.single_quoted(),
                '"' => self.double_quoted(),
                '\\' => {
                    self.i += 1;
                    match self.peek(0) {
                        Some('\n') => self.i += 1,
                        Some(n) => {
                            self.push_char(n);
                            self.i += 1;
                        }
                        None => {}
                    }
                }
                '<' if self.peek(1) == Some('<') && self.peek(2) != Some('<') => {
                    self.end_word();
                    self.heredoc_marker();
                }
                '<' | '>' => {
                    self.end_word();
                    self.i += 1;
                    while matches!(self.peek(0), Some('>' | '<' | '&')) {
                        self.i += 1;
                    }
                    self.redirect_target = true;
                }
                c => {
                    self.push_char(c);
                    self.i += 1;
                }
            }
        }
        self.end_command();
    }
}

fn lex(src: &str, docker_escape: Option<char>) -> (Vec<Vec<Word>>, Vec<usize>) {
    let mut lx = Lexer {
        chars: src.char_indices().collect(),
        src,
        docker_escape,
        i: 0,
        cmds: Vec::new(),
        cur: Vec::new(),
        word: None,
        redirect_target: false,
        pending_heredocs: Vec::new(),
        pipes: Vec::new(),
    };
    lx.run_in_place();
    (lx.cmds, lx.pipes)
}

/// The simple commands of `src`, each a list of words.
pub(crate) fn simple_commands(src: &str, docker_escape: Option<char>) -> Vec<Vec<Word>> {
    lex(src, docker_escape).0
}

/// One simple command, wherever it runs: at the top of the text or inside
/// a `sh -c '…'` script (whose words carry the script's offset).
#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub words: Vec<Word>,
    /// Index in `words` of the program run (after assignments and
    /// wrappers such as `env`, `sudo` or `timeout 5`).
    pub program: usize,
    /// Its output is piped into the next command.
    pub piped: bool,
}

impl Command {
    /// The program's name without its directory.
    pub(crate) fn name(&self) -> &str {
        self.words
            .get(self.program)
            .map_or("", |w| basename(&w.text))
    }

    /// The words after the program.
    pub(crate) fn args(&self) -> &[Word] {
        self.words.get(self.program + 1..).unwrap_or(&[])
    }
}

/// Every command of `src`, `sh -c` scripts opened (three levels deep).
pub(crate) fn commands(src: &str, docker_escape: Option<char>) -> Vec<Command> {
    let mut out = Vec::new();
    commands_into(src, docker_escape, 0, 0, &mut out);
    out
}

fn commands_into(
    src: &str,
    docker_escape: Option<char>,
    base: usize,
    depth: usize,
    out: &mut Vec<Command>,
) {
    let (cmds, pipes) = lex(src, docker_escape);
    for (i, mut words) in cmds.into_iter().enumerate() {
        if base > 0 {
            for w in &mut words {
                w.offset = base;
            }
        }
        let Some(program) = program_index(&words) else {
            continue;
        };
        let name = basename(&words[program].text);
        if SHELLS.contains(&name) && depth < 3 {
            let rest = words.get(program + 1..).unwrap_or(&[]);
            let c_at = rest.iter().position(|a| {
                a.text.starts_with('-') && !a.text.starts_with("--") && a.text.contains('c')
            });
            if let Some(script) = c_at.and_then(|p| rest.get(p + 1)) {
                let at = if base > 0 { base } else { script.offset };
                commands_into(&script.text, None, at, depth + 1, out);
            }
        }
        out.push(Command {
            words,
            program,
            piped: pipes.contains(&i),
        });
    }
}

/// The index of the word naming the program a simple command runs.
fn program_index(cmd: &[Word]) -> Option<usize> {
    let mut after_wrapper = false;
    for (k, w) in cmd.iter().enumerate() {
        let base = basename(&w.text);
        if is_assignment(&w.text)
            || (after_wrapper && (w.text.starts_with('-') || is_duration(&w.text)))
        {
            continue;
        }
        // `sudo cmd` and `busybox cmd` run `cmd`.
        if WRAPPERS.contains(&base) || base == "sudo" || base == "busybox" {
            after_wrapper = true;
            continue;
        }
        return Some(k);
    }
    None
}

/// Words that run the command after them (with their own options first).
const WRAPPERS: &[&str] = &[
    "exec", "env", "nohup", "time", "command", "builtin", "nice", "ionice", "stdbuf", "timeout",
    "xargs", "setsid", "!", "if", "then", "else", "elif", "do", "while", "until", "{",
];

const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh"];

fn basename(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// The words at which `program` is invoked, through wrappers (`exec`, `env`,
/// `nohup`, …), any path (`/usr/bin/sudo`) and `sh -c '…'` scripts.
pub(crate) fn invocations(cmds: &[Vec<Word>], program: &str) -> Vec<Word> {
    let mut hits = Vec::new();
    for cmd in cmds {
        invocations_in(cmd, program, &mut hits);
    }
    hits
}

/// Same as [`invocations`] for an exec-form argument list.
pub(crate) fn invocations_in(cmd: &[Word], program: &str, hits: &mut Vec<Word>) {
    let mut k = 0;
    let mut after_wrapper = false;
    while let Some(w) = cmd.get(k) {
        let base = basename(&w.text);
        if is_assignment(&w.text)
            || (after_wrapper && (w.text.starts_with('-') || is_duration(&w.text)))
        {
            k += 1;
            continue;
        }
        if base == program {
            hits.push(w.clone());
            return;
        }
        if WRAPPERS.contains(&base) {
            after_wrapper = true;
            k += 1;
            continue;
        }
        if SHELLS.contains(&base) {
            let rest = cmd.get(k + 1..).unwrap_or(&[]);
            let c_at = rest.iter().position(|a| {
                a.text.starts_with('-') && !a.text.starts_with("--") && a.text.contains('c')
            });
            if let Some(script) = c_at.and_then(|p| rest.get(p + 1)) {
                for inner in simple_commands(&script.text, None) {
                    let mut found = Vec::new();
                    invocations_in(&inner, program, &mut found);
                    hits.extend(found.into_iter().map(|f| Word {
                        offset: script.offset,
                        text: f.text,
                    }));
                }
            }
        }
        return;
    }
}

fn is_duration(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sudo(src: &str, esc: Option<char>) -> Vec<String> {
        invocations(&simple_commands(src, esc), "sudo")
            .into_iter()
            .map(|w| format!("{}@{}", w.text, w.offset))
            .collect()
    }

    #[test]
    fn finds_sudo_in_command_position() {
        assert_eq!(sudo("sudo ls", None), ["sudo@0"]);
        assert_eq!(sudo("apt-get update && sudo ls", None), ["sudo@18"]);
        assert_eq!(sudo("a; /usr/bin/sudo x", None), ["/usr/bin/sudo@3"]);
        assert_eq!(sudo("ls | sudo tee /x", None), ["sudo@5"]);
        assert_eq!(sudo("exec sudo -u x y", None), ["sudo@5"]);
        assert_eq!(sudo("FOO=1 env -i BAR=2 sudo x", None), ["sudo@19"]);
        assert_eq!(sudo("timeout 5 sudo x", None), ["sudo@10"]);
        assert_eq!(sudo("if true; then sudo x; fi", None), ["sudo@14"]);
        assert_eq!(sudo("x=$(sudo cat /y)", None), ["sudo@4"]);
        assert_eq!(sudo("sh -c 'apt-get update && sudo ls'", None), ["sudo@6"]);
        assert_eq!(sudo("'sudo' ls", None), ["sudo@0"]);
    }

    #[test]
    fn ignores_arguments_quotes_and_comments() {
        assert!(sudo("echo \"use sudo\"", None).is_empty());
        assert!(sudo("echo 'sudo ls'", None).is_empty());
        assert!(sudo("apt-get install -y sudo", None).is_empty());
        assert!(sudo("# sudo ls\nls", None).is_empty());
        assert!(sudo("ls # then sudo ls", None).is_empty());
        assert!(sudo("echo x > sudo", None).is_empty());
        assert!(sudo("cat <<EOT > /f\nsudo ls\nEOT\nls", None).is_empty());
        assert!(sudo("echo a\\ sudo", None).is_empty());
    }

    #[test]
    fn docker_continuations() {
        let src = "apt-get update \\\n  && sudo ls";
        assert_eq!(sudo(src, Some('\\')), ["sudo@22"]);
        // A comment line inside a continued RUN is removed by Docker.
        let src = "apt-get update \\\n # sudo nothing\n  && sudo ls";
        assert_eq!(sudo(src, Some('\\')), ["sudo@38"]);
        let src = "apt-get update `\n  && sudo ls";
        assert_eq!(sudo(src, Some('`')), ["sudo@22"]);
        // A shell comment runs to the end of the logical line.
        assert!(sudo("ls # comment \\\n sudo ls", Some('\\')).is_empty());
    }
}
