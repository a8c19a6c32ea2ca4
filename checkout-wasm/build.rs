//! Minifies the widget's style sheet (`styles/widget.css`) into `$OUT_DIR/widget.css`, which the
//! widget compiles in: comments dropped, runs of whitespace made one space, and no space around
//! `{ } ; , >` or after `:`. Quoted strings are copied as they are.

use std::{env, error::Error, fs, path::Path};

fn minify(css: &str) -> Result<String, Box<dyn Error>> {
    // Comments first: a `/*` inside a quoted string would be taken for one (the sheet has none).
    let mut plain = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        plain.push_str(&rest[..start]);
        match rest[start + 2..].find("*/") {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => return Err("styles/widget.css: a comment is not closed".into()),
        }
    }
    plain.push_str(rest);

    let tight = |c: char| matches!(c, '{' | '}' | ';' | ',' | '>');
    let mut out = String::with_capacity(plain.len());
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    for c in plain.chars() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space {
            let last = out.chars().last();
            if last.is_some_and(|l| !tight(l) && l != ':') && !tight(c) {
                out.push(' ');
            }
            pending_space = false;
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
        }
        // `x;}` → `x}`
        if c == '}' && out.ends_with(';') {
            out.pop();
        }
        out.push(c);
    }
    if quote.is_some() {
        return Err("styles/widget.css: a string is not closed".into());
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=styles/widget.css");
    let css = fs::read_to_string("styles/widget.css")?;
    let min = minify(&css)?;
    // A cheap check that no rule or string was merged away.
    let count = |s: &str, c: char| s.chars().filter(|&x| x == c).count();
    for c in ['{', '}', '"'] {
        if count(&css, c) != count(&min, c) {
            return Err(format!("styles/widget.css: the minified sheet has another number of `{c}`").into());
        }
    }
    fs::write(Path::new(&env::var("OUT_DIR")?).join("widget.css"), min)?;
    Ok(())
}
