//! Short import and export names for the wasm module and its glue.
//!
//! wasm-bindgen names every import `__wbg_<method>_<16 hex digits>` from module `./genesys_auth_bg.js`, and exports
//! after the Rust items (`genesysauth_handleRedirectCallback`, `wasm_bindgen__convert__closures_____invoke__h…`).
//! These names are only a contract between the `.wasm` and the generated glue, so both sides are renamed to one or
//! two letters here. The hex digits do not compress, so short names shrink the gzipped package (`cargo xtask bench` measures it).

use std::collections::BTreeMap;

use crate::setup::Result;

/// The `n`-th short name: `a` … `Z`, then `aa`, `ab`, …
fn short_name(mut n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(ALPHABET[n % ALPHABET.len()]);
        n /= ALPHABET.len();
        if n == 0 {
            break;
        }
        n -= 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Replaces whole-word occurrences of the keys of `names` between `prefix` (e.g. `wasm.`) and `suffix` (e.g. `:`).
fn replace_words(text: &str, prefix: &str, suffix: &str, names: &BTreeMap<String, String>) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = (i == 0 || !is_word(bytes[i - 1])) && is_word(bytes[i]);
        if starts_word {
            let end = (i..bytes.len()).find(|&j| !is_word(bytes[j])).unwrap_or(bytes.len());
            let word = &text[i..end];
            let framed = text[..i].ends_with(prefix) && text[end..].starts_with(suffix);
            match names.get(word) {
                Some(short) if framed => out.push_str(short),
                _ => out.push_str(word),
            }
            i = end;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Renames the imports of `wasm` (module `module_name`) and its exports (except those `keep` names: the ones other
/// code calls by name) to short names, and the glue `js` and its type declarations to match. Returns how many
/// names were shortened.
/// `dts` lists type declaration files with the word before each export name (`readonly `, `const `).
pub fn short_names(
    wasm: &std::path::Path,
    js: &std::path::Path,
    dts: &[(&std::path::Path, &str)],
    module_name: &str,
    keep: &dyn Fn(&str) -> bool,
) -> Result<usize> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let mut module = walrus::Module::from_buffer(&bytes).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let mut imports = BTreeMap::new();
    for (n, import) in module.imports.iter_mut().enumerate() {
        if import.module != module_name {
            return Err(format!("unexpected import module {:?} (expected {module_name:?})", import.module));
        }
        import.module = "a".to_string();
        let short = short_name(n);
        imports.insert(std::mem::replace(&mut import.name, short.clone()), short);
    }
    let mut exports = BTreeMap::new();
    for (n, export) in module.exports.iter_mut().filter(|e| !keep(&e.name)).enumerate() {
        let short = short_name(n);
        exports.insert(std::mem::replace(&mut export.name, short.clone()), short);
    }
    std::fs::write(wasm, module.emit_wasm()).map_err(|e| format!("{}: {e}", wasm.display()))?;

    let glue = std::fs::read_to_string(js).map_err(|e| format!("{}: {e}", js.display()))?;
    let quoted = format!("\"{module_name}\"");
    if !glue.contains(&quoted) {
        return Err(format!("{}: the import object for {quoted} was not found", js.display()));
    }
    // Imports are the keys of the import object (`__wbg_fetch_…: function(…)`), exports are read as `wasm.name`.
    let glue = replace_words(&glue.replace(&quoted, "a"), "", ":", &imports);
    let glue = replace_words(&glue, "wasm.", "", &exports);
    // A leftover means the glue uses a name in a way this step does not know.
    let left = imports.keys().find(|n| glue.contains(&format!("{n}:")));
    let left = left.or_else(|| exports.keys().find(|n| glue.contains(&format!("wasm.{n}"))));
    if let Some(left) = left {
        return Err(format!("{}: {left} is still referenced after renaming", js.display()));
    }
    std::fs::write(js, glue).map_err(|e| format!("{}: {e}", js.display()))?;

    for (path, prefix) in dts {
        let types = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(path, replace_words(&types, prefix, ":", &exports))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(imports.len() + exports.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_distinct_and_short() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert_eq!(names[0], "a");
        assert_eq!(names[51], "Z");
        assert_eq!(names[52], "aa");
        assert!(names.iter().all(|n| n.len() <= 3));
    }

    #[test]
    fn replaces_whole_words_after_the_prefix_only() {
        let names = BTreeMap::from([("foo".to_string(), "a".to_string())]);
        assert_eq!(
            replace_words("wasm.foo(x.foo, foobar, wasm.foo)", "wasm.", "", &names),
            "wasm.a(x.foo, foobar, wasm.a)"
        );
        assert_eq!(replace_words("{foo: 1, foo_x: ü, g: foo}", "", ":", &names), "{a: 1, foo_x: ü, g: foo}");
    }
}
