//! The shape of the code, checked: no import cycle between the top-level modules of `src/` nor
//! between its files, wire modules import only wire modules, and no source file grows past the
//! size at which it holds two things (DESIGN.md). Imports are read from `crate::`, `super::`
//! and `self::` paths in the source text.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

/// Modules that make up the wire and network layer, and what each may import.
const LAYERS: &[(&str, &[&str])] = &[
    ("ids", &[]),
    ("metrics", &[]),
    ("pki", &[]),
    ("xml", &[]),
    ("soap", &["xml", "pki"]),
    ("ebxml", &["xml", "soap"]),
    ("hl7v3", &["xml"]),
    (
        "transport",
        &["xml", "soap", "pki", "metrics", "ebxml", "hl7v3"],
    ),
];

type Module = Vec<String>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/a/b.rs` is `[a, b]`, `src/a/mod.rs` is `[a]`, `src/lib.rs` is `[]`.
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut m: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(m.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        m.pop();
    }
    m
}

/// The source without comments and string literals, so that paths in them do not count.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i + 1 < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i..].starts_with(b"r#\"") {
            let end = text[i + 3..].find("\"#").map_or(b.len(), |e| i + 3 + e + 2);
            i = end;
            out.push_str("\"\"");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path named after `crate::`, `super::` or `self::`, resolved to absolute segments
/// (use-trees with braces expanded).
fn paths_in(code: &str, me: &Module) -> Vec<Module> {
    let mut out = Vec::new();
    let inline = inline_modules(code);
    for anchor in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(pos) = code[from..].find(anchor) {
            let at = from + pos;
            from = at + anchor.len();
            if code[..at].chars().last().is_some_and(is_ident) {
                continue;
            }
            // The module this text is in: the file's, plus any inline `mod x { .. }` around it.
            // Unit tests may reach for anything; they are not part of the shape.
            let around: Vec<_> = inline.iter().filter(|m| m.0 < at && at < m.1).collect();
            if around.iter().any(|m| m.3) {
                continue;
            }
            let mut here = me.clone();
            here.extend(around.iter().map(|m| m.2.clone()));
            let mut base = match anchor {
                "crate::" => Vec::new(),
                "self::" => here,
                // `module_of` names a mod.rs file by its folder, so `super` is the parent.
                _ => here[..here.len().saturating_sub(1)].to_vec(),
            };
            let mut rest = &code[from..];
            // super::super:: climbs further.
            while anchor == "super::" && rest.starts_with("super::") {
                base.pop();
                rest = &rest["super::".len()..];
            }
            expand(rest, &base, &mut out);
        }
    }
    out
}

/// Inline `mod name { .. }` blocks: (start, end, name, whether it is `#[cfg(test)]`).
fn inline_modules(code: &str) -> Vec<(usize, usize, String, bool)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = code[from..].find("mod ") {
        let at = from + pos;
        from = at + 4;
        if code[..at].chars().last().is_some_and(is_ident) {
            continue;
        }
        let name: String = code[from..].chars().take_while(|c| is_ident(*c)).collect();
        let after = code[from + name.len()..].trim_start();
        if name.is_empty() || !after.starts_with('{') {
            continue;
        }
        let open = code.len() - after.len();
        let mut depth = 0;
        for (i, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                let test_only = code[..at].trim_end().ends_with("#[cfg(test)]");
                out.push((open, open + i, name, test_only));
                break;
            }
        }
    }
    out
}

/// Reads a path or use-tree at the start of `s` below `base`.
fn expand(s: &str, base: &Module, out: &mut Vec<Module>) {
    let mut path = base.clone();
    let mut rest = s;
    loop {
        let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if !ident.is_empty() {
            path.push(ident.clone());
            rest = &rest[ident.len()..];
            if let Some(r) = rest.strip_prefix("::") {
                rest = r;
                continue;
            }
            out.push(path);
            return;
        }
        if let Some(inner) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let body = &inner[..end];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in body.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(body[start..i].trim(), &path, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            expand(body[start..].trim(), &path, out);
        } else if !path.is_empty() {
            out.push(path);
        }
        return;
    }
}

/// The longest prefix of `path` that is a module of the crate.
fn resolve(path: &Module, modules: &BTreeSet<Module>) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
}

struct Graph {
    files: BTreeMap<Module, BTreeSet<Module>>,
    top: BTreeMap<String, BTreeSet<String>>,
    lines: Vec<(PathBuf, usize)>,
}

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(src, f)).collect();
    let mut g = Graph {
        files: BTreeMap::new(),
        top: BTreeMap::new(),
        lines: Vec::new(),
    };
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read source");
        g.lines.push((f.clone(), text.lines().count()));
        let me = module_of(src, f);
        let code = code_only(&text);
        for p in paths_in(&code, &me) {
            let Some(target) = resolve(&p, &modules) else {
                continue;
            };
            if target == me || target.is_empty() || me.is_empty() {
                continue;
            }
            // A module's own children are its business, not a dependency.
            if target.starts_with(&me) {
                continue;
            }
            g.files
                .entry(me.clone())
                .or_default()
                .insert(target.clone());
            if me[0] != target[0] {
                g.top
                    .entry(me[0].clone())
                    .or_default()
                    .insert(target[0].clone());
            }
        }
    }
    g
}

/// Strongly connected components with more than one member (Tarjan).
fn cycles<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    struct State<N> {
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        on: BTreeSet<N>,
        next: usize,
        out: Vec<Vec<N>>,
    }
    fn visit<N: Ord + Clone>(v: &N, e: &BTreeMap<N, BTreeSet<N>>, s: &mut State<N>) {
        s.index.insert(v.clone(), s.next);
        s.low.insert(v.clone(), s.next);
        s.next += 1;
        s.stack.push(v.clone());
        s.on.insert(v.clone());
        for w in e.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, e, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(&w);
                let done = &w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let nodes: BTreeSet<N> = edges
        .iter()
        .flat_map(|(k, v)| std::iter::once(k.clone()).chain(v.iter().cloned()))
        .collect();
    for n in &nodes {
        if !s.index.contains_key(n) {
            visit(n, edges, &mut s);
        }
    }
    s.out
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let g = graph(&root().join("src"));
    let found = cycles(&g.top);
    assert!(found.is_empty(), "top-level module cycles: {found:?}");
}

#[test]
fn no_import_cycle_between_files() {
    let mut found = Vec::new();
    for src in ["src", "conformance/src"] {
        for c in cycles(&graph(&root().join(src)).files) {
            let files: Vec<String> = c.iter().map(|m| m.join("/")).collect();
            found.push(format!("{src}: {}", files.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "file import cycles: {found:#?}");
}

#[test]
fn wire_modules_import_only_wire_modules() {
    let g = graph(&root().join("src"));
    let mut wrong = Vec::new();
    for (module, allowed) in LAYERS {
        for target in g.top.get(*module).into_iter().flatten() {
            if !allowed.contains(&target.as_str()) {
                wrong.push(format!("{module} imports {target}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken: {wrong:?}");
}

#[test]
fn no_source_file_is_oversized() {
    let mut big = Vec::new();
    for src in [root().join("src"), root().join("conformance/src")] {
        for (f, n) in graph(&src).lines {
            if n > MAX_LINES {
                big.push(format!("{} ({n} lines)", f.display()));
            }
        }
    }
    assert!(big.is_empty(), "files over {MAX_LINES} lines: {big:?}");
}

#[test]
fn the_checker_sees_cycles_and_use_trees() {
    let me: Module = vec!["a".into(), "b".into()];
    let code = code_only(
        "use crate::{x::{y, z::W}, q}; use super::c::D; // crate::no\nlet s = \"crate::no\";\nmod inner { use super::f; }\n#[cfg(test)]\nmod tests { use crate::t; }",
    );
    let got = paths_in(&code, &me);
    let want: Vec<Module> = [
        vec!["x", "y"],
        vec!["x", "z", "W"],
        vec!["q"],
        vec!["a", "c", "D"],
        vec!["a", "b", "f"],
    ]
    .iter()
    .map(|p| p.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(got, want);
    let mut e: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    e.entry("a").or_default().insert("b");
    e.entry("b").or_default().insert("c");
    e.entry("c").or_default().insert("a");
    e.entry("c").or_default().insert("d");
    assert_eq!(cycles(&e).len(), 1);
}
