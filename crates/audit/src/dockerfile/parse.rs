//! A hand-written Dockerfile front end.
//!
//! Why not a crate: `parse-dockerfile` 0.1.9 (the one candidate) rejects
//! heredocs that do not start the command (`RUN cat <<EOF > /etc/x`,
//! `RUN python3 <<EOF`) and several heredocs in one RUN, which are common in
//! real Dockerfiles, and hadolint's parser is Haskell. The grammar we need is
//! small: parser directives (`# escape=`), instructions with line
//! continuations (comment and empty lines inside a continuation are dropped,
//! as BuildKit does), and heredoc bodies after RUN, COPY and ADD. Offsets are
//! kept so findings point at line:column.

use std::ops::Range;

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Heredoc {
    pub delimiter: String,
    pub body: String,
    /// Byte offset of the body's first line in the file.
    pub body_offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instruction {
    /// Upper case, e.g. `RUN`.
    pub keyword: String,
    /// Byte offset of the keyword.
    pub offset: usize,
    /// The arguments as written, continuations included (byte range).
    pub raw: Range<usize>,
    /// The arguments as Docker sees them: continuations joined, comment
    /// lines dropped, trimmed.
    pub args: String,
    pub heredocs: Vec<Heredoc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub escape: char,
    pub instructions: Vec<Instruction>,
}

/// A parse error: byte offset and message.
pub(crate) type ParseError = (usize, String);

struct Line<'a> {
    offset: usize,
    text: &'a str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for l in text.split_inclusive('\n') {
        let body = l.strip_suffix('\n').unwrap_or(l);
        let body = body.strip_suffix('\r').unwrap_or(body);
        out.push(Line { offset, text: body });
        offset += l.len();
    }
    out
}

/// `# key=value` at the top of the file.
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix('#')?;
    let (k, v) = rest.split_once('=')?;
    let k = k.trim();
    if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((k.to_ascii_lowercase(), v.trim().to_string()))
}

/// Ends with the escape character, blanks allowed after it.
fn continues(line: &str, escape: char) -> bool {
    line.trim_end().ends_with(escape)
}

pub(crate) fn parse(text: &str) -> Result<Parsed, ParseError> {
    let all = lines(text);
    let mut escape = '\\';
    let mut idx = 0;
    while let Some(l) = all.get(idx) {
        let t = l.text.trim_start_matches('\u{feff}');
        match directive(t) {
            Some((k, v)) => {
                if k == "escape" {
                    escape = match v.as_str() {
                        "\\" => '\\',
                        "`" => '`',
                        _ => {
                            return Err((
                                l.offset,
                                format!("invalid escape directive {v:?}: use \\ or `"),
                            ))
                        }
                    };
                }
                idx += 1;
            }
            None => break,
        }
    }
    let mut instructions = Vec::new();
    while let Some(l) = all.get(idx) {
        let t = l.text.trim_start_matches('\u{feff}');
        let trimmed = t.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            idx += 1;
            continue;
        }
        let lead = l.text.len() - trimmed.len();
        let kw_len = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let keyword = trimmed.get(..kw_len).unwrap_or("").to_ascii_uppercase();
        let offset = l.offset + lead;
        if !KEYWORDS.contains(&keyword.as_str()) {
            return Err((offset, format!("unknown instruction {keyword:?}")));
        }
        let raw_start = offset + kw_len;
        let mut parts = vec![trimmed.get(kw_len..).unwrap_or("").to_string()];
        let mut raw_end = l.offset + l.text.len();
        let mut last = t;
        idx += 1;
        while continues(last, escape) {
            if let Some(p) = parts.last_mut() {
                let kept = p.trim_end().strip_suffix(escape).unwrap_or(p).to_string();
                *p = kept;
            }
            // Comment and empty lines inside a continuation are dropped.
            while all
                .get(idx)
                .is_some_and(|n| n.text.trim().is_empty() || n.text.trim_start().starts_with('#'))
            {
                idx += 1;
            }
            let Some(next) = all.get(idx) else { break };
            parts.push(next.text.to_string());
            raw_end = next.offset + next.text.len();
            last = next.text;
            idx += 1;
        }
        let args = parts.concat().trim().to_string();
        let mut heredocs = Vec::new();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (delimiter, strip_tabs) in heredoc_markers(&args) {
                let body_offset = all.get(idx).map_or(text.len(), |n| n.offset);
                let mut body = String::new();
                loop {
                    let Some(n) = all.get(idx) else {
                        return Err((offset, format!("heredoc {delimiter:?} is not terminated")));
                    };
                    idx += 1;
                    let cmp = if strip_tabs {
                        n.text.trim_start_matches('\t')
                    } else {
                        n.text
                    };
                    if cmp == delimiter {
                        break;
                    }
                    body.push_str(cmp);
                    body.push('\n');
                }
                heredocs.push(Heredoc {
                    delimiter,
                    body,
                    body_offset,
                });
            }
        }
        instructions.push(Instruction {
            keyword,
            offset,
            raw: raw_start..raw_end.max(raw_start),
            args,
            heredocs,
        });
    }
    // BuildKit and the classic builder refuse a file whose first
    // instruction past the ARGs (which may name the base image) is not
    // FROM: "no build stage in current context".
    match instructions.iter().find(|i| i.keyword != "ARG") {
        Some(i) if i.keyword == "FROM" => {}
        Some(i) => {
            return Err((
                i.offset,
                format!(
                    "{} before any FROM: a Dockerfile starts with FROM (only ARG may come before it); docker build refuses this file",
                    i.keyword
                ),
            ))
        }
        None => {
            return Err((
                0,
                "no FROM instruction: a Dockerfile starts with FROM; docker build refuses this file"
                    .to_string(),
            ))
        }
    }
    Ok(Parsed {
        escape,
        instructions,
    })
}

/// The `<<WORD` / `<<-WORD` / `<<"WORD"` markers of an instruction, outside
/// quotes, in order: (delimiter, strip leading tabs).
pub(crate) fn heredoc_markers(args: &str) -> Vec<(String, bool)> {
    let chars: Vec<char> = args.chars().collect();
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '<'
                && chars.get(i + 1) == Some(&'<')
                && chars.get(i + 2) != Some(&'<') =>
            {
                let mut j = i + 2;
                let strip = chars.get(j) == Some(&'-');
                if strip {
                    j += 1;
                }
                let mut delim = String::new();
                while let Some(&d) = chars.get(j) {
                    if d.is_whitespace() || matches!(d, ';' | '&' | '|' | '<' | '>' | '(' | ')') {
                        break;
                    }
                    if d != '"' && d != '\'' {
                        delim.push(d);
                    }
                    j += 1;
                }
                if !delim.is_empty() {
                    out.push((delim, strip));
                }
                i = j;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    out
}

/// Splits arguments into words as Docker's lexer does for ENV, ARG, USER,
/// EXPOSE and the sources of ADD/COPY: blanks separate, quotes group, the
/// escape character protects the next character. Returns (word, byte offset
/// in `s`).
pub(crate) fn words(s: &str, escape: char) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, usize)> = None;
    let mut quote: Option<char> = None;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == escape => {
                if let Some(&(_, n)) = it.peek() {
                    if n == '"' || n == escape {
                        it.next();
                        cur.get_or_insert((String::new(), i)).0.push(n);
                        continue;
                    }
                }
                cur.get_or_insert((String::new(), i)).0.push(c);
            }
            Some(_) => cur.get_or_insert((String::new(), i)).0.push(c),
            None if c.is_whitespace() => {
                if let Some(w) = cur.take() {
                    out.push(w);
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                cur.get_or_insert((String::new(), i));
            }
            None if c == escape && it.peek().is_some_and(|&(_, n)| n != '$') => {
                if let Some((_, n)) = it.next() {
                    cur.get_or_insert((String::new(), i)).0.push(n);
                }
            }
            None => cur.get_or_insert((String::new(), i)).0.push(c),
        }
    }
    if let Some(w) = cur {
        out.push(w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_escape_directive() {
        let p = parse("# escape=`\nFROM alpine\nRUN echo a `\n# gone\n\n  && echo b\nUSER x\n")
            .unwrap();
        assert_eq!(p.escape, '`');
        let run = &p.instructions[1];
        assert_eq!(run.keyword, "RUN");
        assert_eq!(run.args, "echo a   && echo b");
        assert_eq!(p.instructions[2].keyword, "USER");
    }

    #[test]
    fn heredocs_anywhere_in_the_command() {
        let p = parse("FROM a\nRUN cat <<EOF > /x && python3 <<-'PY'\nsudo\nEOF\n\tprint(1)\n\tPY\nUSER app\n").unwrap();
        let run = &p.instructions[1];
        assert_eq!(run.heredocs.len(), 2);
        assert_eq!(run.heredocs[0].body, "sudo\n");
        assert_eq!(run.heredocs[1].body, "print(1)\n");
        // "FROM a\n" (7) + the RUN line (37) + its newline.
        assert_eq!(run.heredocs[0].body_offset, 45);
        assert_eq!(p.instructions[2].args, "app");
    }

    #[test]
    fn errors_carry_offsets() {
        assert_eq!(parse("FROM a\nRUN <<EOF\nls\n").unwrap_err().0, 7);
        assert_eq!(parse("FROM a\nFROOM b\n").unwrap_err().0, 7);
        assert!(parse("").is_err());
        assert!(parse("# escape=x\nFROM a").is_err());
        // Only ARG may come before the first FROM.
        assert!(parse("ARG V=1\nFROM a:$V\nRUN x\n").is_ok());
        let (at, msg) = parse("ARG V=1\nRUN x\nFROM a\n").unwrap_err();
        assert_eq!(at, 8);
        assert!(msg.starts_with("RUN before any FROM"), "{msg}");
        assert!(parse("ARG V=1\n").unwrap_err().1.starts_with("no FROM"));
        // A directive after the first instruction is a comment.
        assert_eq!(
            parse("FROM a\n# escape=`\nRUN a \\\n b").unwrap().escape,
            '\\'
        );
    }

    #[test]
    fn word_splitting() {
        let w: Vec<String> = words(r#"A=1 B="two words" C='x y' D=a\ b"#, '\\')
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(w, ["A=1", "B=two words", "C=x y", "D=a b"]);
    }
}
