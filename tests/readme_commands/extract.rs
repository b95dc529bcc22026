//! Which commands the README's ```` ```sh ```` blocks hold, and what each runs: the extraction
//! and mapping rules of `readme_commands.rs` (its `//!` block says why they are what they are).

/// One extracted command: where it came from and its words.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub file: &'static str,
    pub block: usize,
    pub line: String,
    pub words: Vec<String>,
}

/// The commands of the ```` ```sh ```` blocks of `file`.
pub fn extract(file: &'static str) -> Vec<Cmd> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let (mut out, mut block, mut in_sh) = (Vec::new(), 0, false);
    for raw in text.lines() {
        let t = raw.trim();
        if !in_sh {
            if t == "```sh" {
                in_sh = true;
                block += 1;
            }
            continue;
        }
        if t.starts_with("```") {
            in_sh = false;
            continue;
        }
        let line = match t.find(" #") {
            Some(i) => t[..i].trim(),
            None => t,
        };
        if line.is_empty() {
            continue;
        }
        let shell = ['"', '\'', '$', '|', '&', ';', '\\', '<', '>', '`', '*'];
        assert!(
            !line.contains(shell),
            "{file}: `{line}` uses shell syntax this test cannot run"
        );
        out.push(Cmd {
            file,
            block,
            line: line.to_string(),
            words: line.split_whitespace().map(String::from).collect(),
        });
    }
    assert!(!in_sh, "{file}: unterminated ```sh block");
    out
}

/// What a command runs.
#[derive(Debug, PartialEq)]
pub enum Program {
    Bin(String, Vec<String>),
    Example(String, Vec<String>),
    CargoTest,
}

fn cannot_run(c: &Cmd) -> ! {
    panic!("{}: cannot run `{}`", c.file, c.line)
}

pub fn program(c: &Cmd) -> Program {
    let w: Vec<&str> = c.words.iter().map(String::as_str).collect();
    if w == ["cargo", "test"] {
        return Program::CargoTest;
    }
    let rest = match w.as_slice() {
        ["cargo", "run", "--release", rest @ ..] | ["cargo", "run", rest @ ..] => rest,
        _ => cannot_run(c),
    };
    let (kind, name, tail) = match rest {
        [k @ ("--bin" | "--example"), name, tail @ ..] => (*k, name.to_string(), tail),
        _ => cannot_run(c),
    };
    let args = match tail {
        [] => Vec::new(),
        ["--", args @ ..] => args.iter().map(|a| a.to_string()).collect(),
        _ => cannot_run(c),
    };
    if kind == "--bin" {
        Program::Bin(name, args)
    } else {
        Program::Example(name, args)
    }
}
