//! The library's modules import each other without cycles: each module can
//! be read, tested and changed knowing only the modules below it.
//!
//! A module depends on another when its code names it, through `use` or a
//! path (`super::types::Shape`), after following re-exports to the module
//! that defines the item. A module naming its own ancestors does not count:
//! a parent owns its submodules, and the items it defines for them (an
//! error type, say) are theirs by design. Code under `#[cfg(test)]` does not
//! count either.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

type ModPath = Vec<String>;

/// One module: what it defines, what its `use`s bind, and what it names.
#[derive(Default)]
struct Module {
    file: PathBuf,
    defines: BTreeSet<String>,
    children: BTreeSet<String>,
    /// Name bound by a `use` to the absolute path it names, or `None` for
    /// a path outside the crate (`std`, another crate).
    binds: BTreeMap<String, Option<ModPath>>,
    globs: Vec<ModPath>,
    /// Paths the code names, absolute, each with the line naming it.
    names: Vec<(ModPath, usize)>,
}

#[derive(Default)]
struct Crate {
    /// The folder `src/` is in, for short file names in messages.
    root: PathBuf,
    modules: BTreeMap<ModPath, Module>,
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

impl Crate {
    fn load(src: &Path) -> Self {
        let mut krate = Crate {
            root: src.parent().unwrap_or(src).to_path_buf(),
            ..Crate::default()
        };
        krate.load_file(vec!["crate".into()], &src.join("lib.rs"), src);
        krate
    }

    /// Reads the module at `path` in `file`; its submodule files are in `dir`.
    fn load_file(&mut self, path: ModPath, file: &Path, dir: &Path) {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        self.load_items(path, file, dir, &parsed.items);
    }

    fn load_items(&mut self, path: ModPath, file: &Path, dir: &Path, items: &[syn::Item]) {
        let mut module = Module {
            file: file.to_path_buf(),
            ..Module::default()
        };
        let mut submodules = Vec::new();
        for item in items {
            match item {
                syn::Item::Mod(m) if is_test_only(&m.attrs) => {}
                syn::Item::Mod(m) => {
                    module.children.insert(m.ident.to_string());
                    submodules.push(m);
                }
                syn::Item::Use(u) if !is_test_only(&u.attrs) => {
                    let mut leaves = Vec::new();
                    use_leaves(&u.tree, Vec::new(), &mut leaves);
                    for (segments, bound) in leaves {
                        let line = u.use_token.span.start().line;
                        match bound {
                            Bound::Name(name) => {
                                module.binds.insert(name, Some(segments.clone()));
                            }
                            Bound::Glob => module.globs.push(segments.clone()),
                        }
                        module.names.push((segments, line));
                    }
                }
                other => {
                    if let Some(name) = defined_name(other) {
                        module.defines.insert(name);
                    }
                    if !item_is_test_only(other) {
                        let mut paths = Paths::default();
                        paths.visit_item(other);
                        module.names.extend(paths.found);
                    }
                }
            }
        }
        self.modules.insert(path.clone(), module);
        for m in submodules {
            let name = m.ident.to_string();
            let mut child = path.clone();
            child.push(name.clone());
            match &m.content {
                // An inline module's file submodules are in a folder of its name.
                Some((_, items)) => self.load_items(child, file, &dir.join(&name), items),
                None => {
                    let flat = dir.join(format!("{name}.rs"));
                    let (child_file, child_dir) = if flat.exists() {
                        (flat, dir.join(&name))
                    } else {
                        (dir.join(&name).join("mod.rs"), dir.join(&name))
                    };
                    self.load_file(child, &child_file, &child_dir);
                }
            }
        }
    }

    /// Turns the paths each module names into absolute ones; relative
    /// first segments are looked up in the module's own scope.
    fn absolutize(&mut self) {
        let paths: Vec<ModPath> = self.modules.keys().cloned().collect();
        for path in paths {
            let module = &self.modules[&path];
            let absolute = |segments: &[String]| absolute(&path, module, segments);
            let binds: BTreeMap<String, Option<ModPath>> = module
                .binds
                .iter()
                .map(|(name, target)| (name.clone(), target.as_deref().and_then(absolute)))
                .collect();
            let globs: Vec<ModPath> = module.globs.iter().filter_map(|g| absolute(g)).collect();
            let mut names = Vec::new();
            for (segments, line) in &module.names {
                let first = &segments[0];
                // A path through a name a `use` bound (`names::field_name`);
                // a submodule of that name comes first, being a module.
                let resolved = match module.binds.get(first) {
                    Some(_) if segments.len() > 1 && !module.children.contains(first) => binds
                        [first]
                        .as_ref()
                        .map(|t| [t.as_slice(), &segments[1..]].concat()),
                    _ => absolute(segments),
                };
                if let Some(r) = resolved {
                    names.push((r, *line));
                }
            }
            let module = self.modules.get_mut(&path).expect("listed");
            module.binds = binds;
            module.globs = globs;
            module.names = names;
        }
    }

    /// The module that defines what `path` names, following re-exports.
    fn owner(&self, path: &[String], depth: usize) -> Option<ModPath> {
        let split = (1..=path.len())
            .rev()
            .find(|n| self.modules.contains_key(&path[..*n]))?;
        let (module_path, rest) = path.split_at(split);
        let module = &self.modules[module_path];
        let Some(name) = rest.first() else {
            return Some(module_path.to_vec());
        };
        if module.defines.contains(name) || depth > 16 {
            return Some(module_path.to_vec());
        }
        if let Some(target) = module.binds.get(name) {
            // A `use` of something outside the crate names nothing here.
            let target = target.as_ref()?;
            return self.owner(&[target.as_slice(), &rest[1..]].concat(), depth + 1);
        }
        for glob in &module.globs {
            let through = [glob.as_slice(), rest].concat();
            if let Some(owner) = self.owner(&through, depth + 1) {
                if self.modules[&owner].defines.contains(&through[owner.len()]) {
                    return Some(owner);
                }
            }
        }
        Some(module_path.to_vec())
    }

    /// Every dependency between modules, with the file and line that makes it.
    fn edges(&self) -> BTreeMap<ModPath, BTreeMap<ModPath, String>> {
        let mut edges: BTreeMap<ModPath, BTreeMap<ModPath, String>> = BTreeMap::new();
        for (from, module) in &self.modules {
            for (named, line) in &module.names {
                let Some(to) = self.owner(named, 0) else {
                    continue;
                };
                let ancestor = from.starts_with(&to);
                if !ancestor {
                    edges
                        .entry(from.clone())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| {
                            format!(
                                "{}:{line} names `{}`",
                                module
                                    .file
                                    .strip_prefix(&self.root)
                                    .unwrap_or(&module.file)
                                    .display(),
                                named.join("::")
                            )
                        });
                }
            }
        }
        edges
    }
}

/// The absolute path of `segments` as written in module `at`, or `None`
/// when it leads outside the crate.
fn absolute(at: &[String], module: &Module, segments: &[String]) -> Option<ModPath> {
    let mut base: ModPath;
    let mut rest = segments;
    match segments.first()?.as_str() {
        "crate" => {
            base = vec!["crate".into()];
            rest = &segments[1..];
        }
        "self" => {
            base = at.to_vec();
            rest = &segments[1..];
        }
        "super" => {
            base = at.to_vec();
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        first if module.children.contains(first) => base = at.to_vec(),
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

enum Bound {
    Name(String),
    Glob,
}

fn use_leaves(tree: &syn::UseTree, prefix: Vec<String>, out: &mut Vec<(ModPath, Bound)>) {
    let with = |segment: String| {
        let mut p = prefix.clone();
        p.push(segment);
        p
    };
    match tree {
        syn::UseTree::Path(p) => use_leaves(&p.tree, with(p.ident.to_string()), out),
        syn::UseTree::Name(n) if n.ident == "self" => {
            let name = prefix.last().cloned().unwrap_or_default();
            out.push((prefix.clone(), Bound::Name(name)));
        }
        syn::UseTree::Name(n) => {
            out.push((with(n.ident.to_string()), Bound::Name(n.ident.to_string())));
        }
        syn::UseTree::Rename(r) if r.ident == "self" => {
            out.push((prefix.clone(), Bound::Name(r.rename.to_string())));
        }
        syn::UseTree::Rename(r) => {
            out.push((with(r.ident.to_string()), Bound::Name(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), Bound::Glob)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_leaves(t, prefix.clone(), out);
            }
        }
    }
}

fn defined_name(item: &syn::Item) -> Option<String> {
    Some(match item {
        syn::Item::Const(i) => i.ident.to_string(),
        syn::Item::Enum(i) => i.ident.to_string(),
        syn::Item::Fn(i) => i.sig.ident.to_string(),
        syn::Item::Macro(i) => i.ident.as_ref()?.to_string(),
        syn::Item::Static(i) => i.ident.to_string(),
        syn::Item::Struct(i) => i.ident.to_string(),
        syn::Item::Trait(i) => i.ident.to_string(),
        syn::Item::Type(i) => i.ident.to_string(),
        syn::Item::Union(i) => i.ident.to_string(),
        _ => return None,
    })
}

fn item_is_test_only(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        _ => return false,
    };
    is_test_only(attrs)
}

/// Paths of two or more segments named in code; a single segment is a local
/// name or one a `use` bound, which the `use` already counts.
#[derive(Default)]
struct Paths {
    found: Vec<(ModPath, usize)>,
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = path.segments[0].ident.span().start().line;
            self.found.push((segments, line));
        }
        syn::visit::visit_path(self, path);
    }

    /// Macro input is tokens, not syntax: `matches!(k, super::storage::Kind::A)`.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        macro_paths(mac.tokens.clone(), &mut self.found);
        syn::visit::visit_macro(self, mac);
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_impl_item_fn(self, item);
        }
    }
}

/// Runs of `a::b::c` in macro tokens.
fn macro_paths(tokens: proc_macro2::TokenStream, found: &mut Vec<(ModPath, usize)>) {
    use proc_macro2::{Spacing, TokenTree};
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let colons = |i: usize| {
        matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
            && matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':')
    };
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Group(g) => macro_paths(g.stream(), found),
            TokenTree::Ident(first) => {
                let mut segments = vec![first.to_string()];
                while colons(i + 1) {
                    let Some(TokenTree::Ident(next)) = tokens.get(i + 3) else {
                        break;
                    };
                    segments.push(next.to_string());
                    i += 3;
                }
                if segments.len() > 1 {
                    found.push((segments, first.span().start().line));
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// Every cycle, one per strongly connected group of modules, each link with
/// the line that makes it.
fn cycles(src: &Path) -> Vec<String> {
    let mut krate = Crate::load(src);
    krate.absolutize();
    let edges = krate.edges();
    let name = |m: &ModPath| m.join("::");
    let mut reported: BTreeSet<ModPath> = BTreeSet::new();
    let mut out = Vec::new();
    for start in edges.keys() {
        if reported.contains(start) {
            continue;
        }
        // The shortest way back to `start`, if there is one.
        let mut came_from: BTreeMap<&ModPath, &ModPath> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        let mut closing = None;
        while let Some(at) = queue.pop_front() {
            for next in edges.get(at).into_iter().flat_map(BTreeMap::keys) {
                if next == start {
                    closing = Some(at);
                    break;
                }
                if !came_from.contains_key(next) {
                    came_from.insert(next, at);
                    queue.push_back(next);
                }
            }
            if closing.is_some() {
                break;
            }
        }
        let Some(mut at) = closing else { continue };
        let mut ring = vec![at];
        while at != start {
            at = came_from[at];
            ring.push(at);
        }
        ring.reverse();
        let mut text = format!(
            "{}:",
            ring.iter()
                .map(|m| name(m))
                .collect::<Vec<_>>()
                .join(" -> ")
        );
        for (i, from) in ring.iter().enumerate() {
            let to = ring.get(i + 1).copied().unwrap_or(start);
            text.push_str(&format!(
                "\n    {} -> {}: {}",
                name(from),
                name(to),
                edges[*from][to]
            ));
        }
        reported.extend(ring.into_iter().cloned());
        out.push(text);
    }
    out
}

#[test]
fn the_library_has_no_import_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = cycles(&src);
    assert!(
        found.is_empty(),
        "modules that import each other, directly or through others:\n{}",
        found.join("\n")
    );
}

/// A crate of the given files, in a temporary folder.
fn fixture(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("in a folder")).expect("folder");
        std::fs::write(path, text).expect("written");
    }
    dir
}

#[test]
fn a_cycle_through_use_is_found_and_named() {
    let dir = fixture(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        (
            "b.rs",
            "pub struct B;\npub fn f() -> super::a::A { todo!() }\n",
        ),
    ]);
    let found = cycles(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("crate::a -> crate::b:"),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains("b.rs:2 names `crate::a::A`"),
        "{}",
        found[0]
    );
}

#[test]
fn a_longer_cycle_through_a_re_export_is_found() {
    let dir = fixture(&[
        ("lib.rs", "mod a;\nmod m;\n"),
        ("a.rs", "use crate::m::C;\npub struct A;\n"),
        ("m/mod.rs", "mod b;\nmod c;\npub use c::*;\n"),
        ("m/b.rs", "pub struct B(crate::a::A);\n"),
        ("m/c.rs", "use super::b::B;\npub struct C;\n"),
    ]);
    let found = cycles(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("crate::a -> crate::m::c -> crate::m::b:"),
        "{}",
        found[0]
    );
}

#[test]
fn naming_a_parent_tests_and_one_way_imports_are_not_cycles() {
    let dir = fixture(&[
        (
            "lib.rs",
            "mod a;\nmod b;\npub struct Error;\nfn run() { a::go(); }\n",
        ),
        (
            "a.rs",
            "use crate::b::B;\npub fn go() -> crate::Error { crate::Error }\n",
        ),
        (
            "b.rs",
            "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::go;\n}\n",
        ),
    ]);
    assert_eq!(cycles(dir.path()), Vec::<String>::new());
}

#[test]
fn a_path_inside_a_macro_counts() {
    let dir = fixture(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::Kind;\npub struct A;\n"),
        (
            "b.rs",
            "pub enum Kind { X }\npub fn f(k: Kind) -> bool {\n    matches!(k, Kind::X) && crate::a::A::ok()\n}\n",
        ),
    ]);
    let found = cycles(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("b.rs:3 names `crate::a::A::ok`"),
        "{}",
        found[0]
    );
}
