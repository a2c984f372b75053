//! Language registry: which files threat-analyzer reads, and how.
//!
//! Owns: [`Language`] (one variant per supported file kind), the mapping from a path to a
//! language ([`Language::from_path`]: by extension and well-known file names, never by
//! content sniffing, so shebang-less scripts and Terraform are never silently skipped), the
//! tree-sitter grammar of each language and its comment query (`queries/<name>/comments.scm`),
//! and the names editors give each language where a shipped editor configuration must list them
//! all ([`Language::helix_names`], checked against `editors/helix/languages.toml`).
//!
//! Three kinds are not tree-sitter languages: [`Language::Gal`] (`.gal`, raw annotation lines),
//! [`Language::ThreatSpecDoc`] (`.threatspec`, raw ThreatSpec lines) and
//! [`Language::PlainText`] (`.txt` design notes, read only when the configuration names them:
//! [`Language::read_only_when_named`]); [`super::comments`] reads them line by line.
//!
//! Must never: do I/O or look at file contents.

use std::path::Path;

/// A kind of file threat-analyzer reads annotations from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Python,
    Rust,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Java,
    C,
    Cpp,
    CSharp,
    Ruby,
    Php,
    Bash,
    Yaml,
    /// HashiCorp configuration language: Terraform `.tf`/`.tfvars`, `.hcl`.
    Hcl,
    Toml,
    Kotlin,
    Swift,
    Scala,
    Lua,
    Json,
    /// Dockerfile / Containerfile.
    Dockerfile,
    /// GuardLink `.gal` files: one raw annotation per line, no comment prefix.
    Gal,
    /// `.threatspec` files: raw ThreatSpec annotation lines.
    ThreatSpecDoc,
    /// `.txt` design notes: every line may hold an annotation (`#`/`//` markers stripped). Read
    /// only when named ([`Language::read_only_when_named`]).
    PlainText,
}

/// Every language, in declaration order (`Language::all()[l.index()] == l`).
const ALL: &[Language] = &[
    Language::Python,
    Language::Rust,
    Language::JavaScript,
    Language::TypeScript,
    Language::Tsx,
    Language::Go,
    Language::Java,
    Language::C,
    Language::Cpp,
    Language::CSharp,
    Language::Ruby,
    Language::Php,
    Language::Bash,
    Language::Yaml,
    Language::Hcl,
    Language::Toml,
    Language::Kotlin,
    Language::Swift,
    Language::Scala,
    Language::Lua,
    Language::Json,
    Language::Dockerfile,
    Language::Gal,
    Language::ThreatSpecDoc,
    Language::PlainText,
];

/// Number of languages (length of [`Language::all`]).
pub(crate) const LANGUAGE_COUNT: usize = ALL.len();

impl Language {
    /// Every supported language.
    pub fn all() -> &'static [Language] {
        ALL
    }

    /// Dense index of this language, `0..Language::all().len()`.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Stable lowercase identifier (also the directory name under `queries/`).
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Rust => "rust",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::Go => "go",
            Language::Java => "java",
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::CSharp => "csharp",
            Language::Ruby => "ruby",
            Language::Php => "php",
            Language::Bash => "bash",
            Language::Yaml => "yaml",
            Language::Hcl => "hcl",
            Language::Toml => "toml",
            Language::Kotlin => "kotlin",
            Language::Swift => "swift",
            Language::Scala => "scala",
            Language::Lua => "lua",
            Language::Json => "json",
            Language::Dockerfile => "dockerfile",
            Language::Gal => "gal",
            Language::ThreatSpecDoc => "threatspec",
            Language::PlainText => "text",
        }
    }

    /// The language whose [`Language::name`] is `name`.
    pub fn from_name(name: &str) -> Option<Language> {
        ALL.iter().copied().find(|l| l.name() == name)
    }

    /// The language of `path`, by well-known file name first, then by extension. Never looks
    /// at the contents. `None` for files threat-analyzer does not read.
    pub fn from_path(path: &Path) -> Option<Language> {
        let (file_name, ext) = name_and_extension(path)?;
        if NOT_READ.contains(&file_name) {
            return None;
        }
        if let Some(lang) = from_file_name(file_name) {
            return Some(lang);
        }
        // `.bashrc` has no extension for `Path`: dotfiles are matched by name above.
        from_extension(ext?)
    }

    /// The tree-sitter grammar, `None` for the line-based kinds (Gal, ThreatSpecDoc, PlainText).
    pub fn grammar(self) -> Option<tree_sitter::Language> {
        let lang_fn = match self {
            Language::Python => tree_sitter_python::LANGUAGE,
            Language::Rust => tree_sitter_rust::LANGUAGE,
            Language::JavaScript => tree_sitter_javascript::LANGUAGE,
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT,
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX,
            Language::Go => tree_sitter_go::LANGUAGE,
            Language::Java => tree_sitter_java::LANGUAGE,
            Language::C => tree_sitter_c::LANGUAGE,
            Language::Cpp => tree_sitter_cpp::LANGUAGE,
            Language::CSharp => tree_sitter_c_sharp::LANGUAGE,
            Language::Ruby => tree_sitter_ruby::LANGUAGE,
            Language::Php => tree_sitter_php::LANGUAGE_PHP,
            Language::Bash => tree_sitter_bash::LANGUAGE,
            Language::Yaml => tree_sitter_yaml::LANGUAGE,
            Language::Hcl => tree_sitter_hcl::LANGUAGE,
            Language::Toml => tree_sitter_toml_ng::LANGUAGE,
            Language::Kotlin => tree_sitter_kotlin_ng::LANGUAGE,
            Language::Swift => tree_sitter_swift::LANGUAGE,
            Language::Scala => tree_sitter_scala::LANGUAGE,
            Language::Lua => tree_sitter_lua::LANGUAGE,
            Language::Json => tree_sitter_json::LANGUAGE,
            Language::Dockerfile => tree_sitter_containerfile::LANGUAGE,
            Language::Gal | Language::ThreatSpecDoc | Language::PlainText => return None,
        };
        Some(lang_fn.into())
    }

    /// The tree-sitter query capturing this language's outer comment nodes as `@comment`.
    pub fn comment_query(self) -> Option<&'static str> {
        macro_rules! q {
            ($name:literal) => {
                include_str!(concat!("../../queries/", $name, "/comments.scm"))
            };
        }
        Some(match self {
            Language::Python => q!("python"),
            Language::Rust => q!("rust"),
            Language::JavaScript => q!("javascript"),
            Language::TypeScript => q!("typescript"),
            Language::Tsx => q!("tsx"),
            Language::Go => q!("go"),
            Language::Java => q!("java"),
            Language::C => q!("c"),
            Language::Cpp => q!("cpp"),
            Language::CSharp => q!("csharp"),
            Language::Ruby => q!("ruby"),
            Language::Php => q!("php"),
            Language::Bash => q!("bash"),
            Language::Yaml => q!("yaml"),
            Language::Hcl => q!("hcl"),
            Language::Toml => q!("toml"),
            Language::Kotlin => q!("kotlin"),
            Language::Swift => q!("swift"),
            Language::Scala => q!("scala"),
            Language::Lua => q!("lua"),
            Language::Json => q!("json"),
            Language::Dockerfile => q!("dockerfile"),
            Language::Gal | Language::ThreatSpecDoc | Language::PlainText => return None,
        })
    }

    /// Helix's names (`[[language]] name` in its `languages.toml`) for the file kinds this
    /// language covers: every one gets the server in `editors/helix/languages.toml`, which a test
    /// checks against this list, so the two cannot drift. `gal`, `threatspec` and `text` are not
    /// Helix 25.07 languages; that file defines them.
    pub fn helix_names(self) -> &'static [&'static str] {
        match self {
            Language::Python => &["python"],
            Language::Rust => &["rust"],
            Language::JavaScript => &["javascript", "jsx"],
            Language::TypeScript => &["typescript"],
            Language::Tsx => &["tsx"],
            Language::Go => &["go"],
            Language::Java => &["java"],
            Language::C => &["c"],
            Language::Cpp => &["cpp"],
            Language::CSharp => &["c-sharp"],
            Language::Ruby => &["ruby"],
            Language::Php => &["php"],
            Language::Bash => &["bash"],
            // Helix gives Compose files their own language on the YAML grammar.
            Language::Yaml => &["yaml", "docker-compose"],
            Language::Hcl => &["hcl", "tfvars"],
            Language::Toml => &["toml"],
            Language::Kotlin => &["kotlin"],
            Language::Swift => &["swift"],
            Language::Scala => &["scala"],
            Language::Lua => &["lua"],
            Language::Json => &["json", "jsonc"],
            Language::Dockerfile => &["dockerfile"],
            Language::Gal => &["gal"],
            Language::ThreatSpecDoc => &["threatspec"],
            Language::PlainText => &["text"],
        }
    }

    /// Whether files of this kind are source code with annotations in their comments, rather
    /// than annotation documents (`.gal`, `.threatspec`, `.txt` notes): a source file without
    /// annotations is code nobody has modelled yet (`status --unannotated`).
    pub fn is_source(self) -> bool {
        !matches!(self, Language::Gal | Language::ThreatSpecDoc | Language::PlainText)
    }

    /// Whether a file of this kind is an annotation document only when the configuration names
    /// it (a PATH, a `threatspec.yaml` `paths:` entry, an include glob: the walk decides):
    /// most `.txt` files (`requirements.txt`, licences, logs) are not design notes.
    pub fn read_only_when_named(self) -> bool {
        self == Language::PlainText
    }

    /// True when annotations may also live in document values (`x-threatspec` keys).
    pub fn has_embedded_annotations(self) -> bool {
        matches!(self, Language::Yaml | Language::Json)
    }

    /// Line-comment markers, used only when tree-sitter cannot parse a file (see
    /// [`super::comments`]). Empty for the line-based kinds.
    pub fn line_comment_markers(self) -> &'static [&'static str] {
        match self {
            Language::Python
            | Language::Ruby
            | Language::Bash
            | Language::Yaml
            | Language::Toml
            | Language::Dockerfile => &["#"],
            Language::Hcl | Language::Php => &["#", "//"],
            Language::Lua => &["--"],
            Language::Rust
            | Language::JavaScript
            | Language::TypeScript
            | Language::Tsx
            | Language::Go
            | Language::Java
            | Language::C
            | Language::Cpp
            | Language::CSharp
            | Language::Kotlin
            | Language::Swift
            | Language::Scala
            | Language::Json => &["//"],
            Language::Gal | Language::ThreatSpecDoc | Language::PlainText => &[],
        }
    }
}

/// File names whose extension says otherwise but that are not that kind of file: CMake's
/// `CMakeLists.txt` is code, not design notes, and there is no CMake grammar.
const NOT_READ: &[&str] = &["CMakeLists.txt"];

/// `path.file_name()` and `path.extension()` as UTF-8 (`None` when the name is missing or not
/// UTF-8; an extension that is not UTF-8 is then impossible). Asked of every file the walk
/// meets: where the path's last component is a plain name (not empty, `.` or `..`) it is read
/// from the bytes after the last `/`, as `Path` would read it (its parse of the components
/// made [`Language::from_path`] ~800 instructions a file, ~400 without). Anything else, and
/// every path off Unix, asks `Path`.
fn name_and_extension(path: &Path) -> Option<(&str, Option<&str>)> {
    #[cfg(unix)]
    {
        // On Unix the encoded bytes are the path's own, and `/` is the only separator.
        let bytes = path.as_os_str().as_encoded_bytes();
        let name = &bytes[memchr::memrchr(b'/', bytes).map_or(0, |slash| slash + 1)..];
        if !matches!(name, b"" | b"." | b"..") {
            let name = std::str::from_utf8(name).ok()?;
            // `Path::extension`: after the last `.`, unless that `.` starts the name.
            let ext =
                memchr::memrchr(b'.', name.as_bytes()).filter(|&dot| dot > 0).map(|dot| &name[dot + 1..]);
            return Some((name, ext));
        }
    }
    let name = path.file_name()?.to_str()?;
    Some((name, path.extension().and_then(|e| e.to_str())))
}

/// Well-known file names (exact, or `Dockerfile.*`-style patterns).
fn from_file_name(name: &str) -> Option<Language> {
    let lang = match name {
        "Dockerfile" | "Containerfile" | "dockerfile" | "containerfile" => Language::Dockerfile,
        "Rakefile" | "rakefile" | "Gemfile" | "Guardfile" | "Vagrantfile" | "Capfile" | "Podfile"
        | "Brewfile" | "Berksfile" | "Fastfile" | "Appfile" | "Dangerfile" | "Steepfile" | "config.ru" => {
            Language::Ruby
        }
        ".bashrc" | ".bash_profile" | ".bash_login" | ".bash_logout" | ".bash_aliases" | ".profile"
        | ".zshrc" | ".zshenv" | ".zprofile" | ".zlogin" | ".zlogout" | ".kshrc" | ".envrc" | "bashrc"
        | "zshrc" | "PKGBUILD" | "APKBUILD" => Language::Bash,
        "SConstruct" | "SConscript" => Language::Python,
        "Pipfile" => Language::Toml,
        _ => {
            // Asked of every file the walk meets: compared in place, not lower-cased into a
            // new string.
            let starts_with = |prefix: &str| {
                name.as_bytes()
                    .get(..prefix.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
            };
            if starts_with("dockerfile.") || starts_with("containerfile.") {
                return Some(Language::Dockerfile);
            }
            return None;
        }
    };
    Some(lang)
}

/// Extension (without the dot) to language. Case-insensitive, except that `.C` and `.H` are
/// C++ (the gcc convention) while `.c` and `.h` are C.
fn from_extension(ext: &str) -> Option<Language> {
    match ext {
        "C" | "H" => return Some(Language::Cpp),
        _ => {}
    }
    let mut buf = [0u8; 16];
    if ext.len() > buf.len() {
        return None;
    }
    let buf = &mut buf[..ext.len()];
    buf.copy_from_slice(ext.as_bytes());
    buf.make_ascii_lowercase();
    let ext = std::str::from_utf8(buf).ok()?;
    Some(match ext {
        "py" | "pyi" | "pyw" => Language::Python,
        "rs" => Language::Rust,
        "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
        "ts" | "mts" | "cts" => Language::TypeScript,
        "tsx" => Language::Tsx,
        "go" => Language::Go,
        "java" => Language::Java,
        "c" | "h" => Language::C,
        "cpp" | "cc" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" | "ipp" | "inl" | "tpp" => Language::Cpp,
        "cs" | "csx" => Language::CSharp,
        "rb" | "rbw" | "rake" | "gemspec" | "ru" | "podspec" => Language::Ruby,
        "php" | "phtml" | "php3" | "php4" | "php5" | "php7" | "php8" | "phps" => Language::Php,
        "sh" | "bash" | "zsh" | "ksh" | "bats" | "ebuild" => Language::Bash,
        "yaml" | "yml" => Language::Yaml,
        "tf" | "tfvars" | "hcl" | "nomad" => Language::Hcl,
        "toml" => Language::Toml,
        "kt" | "kts" => Language::Kotlin,
        "swift" => Language::Swift,
        "scala" | "sc" | "sbt" => Language::Scala,
        "lua" => Language::Lua,
        "json" | "jsonc" => Language::Json,
        "dockerfile" | "containerfile" => Language::Dockerfile,
        "gal" => Language::Gal,
        "threatspec" => Language::ThreatSpecDoc,
        "txt" => Language::PlainText,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`name_and_extension`] reads what `Path` reads, on any path of names, dots, slashes,
    /// backslashes and non-ASCII text.
    fn agrees(path: &str) {
        let path = Path::new(path);
        let expected =
            path.file_name().and_then(|n| n.to_str()).map(|n| (n, path.extension().and_then(|e| e.to_str())));
        assert_eq!(name_and_extension(path), expected, "{path:?}");
    }

    #[test]
    fn names_and_extensions_are_read_as_path_reads_them() {
        for path in [
            "",
            "/",
            ".",
            "..",
            "a",
            "a.c",
            ".bashrc",
            "a/.bashrc",
            "a/b.tar.gz",
            "a.",
            "a/..",
            "a/.",
            "a/b/",
            "a//b.c",
            "/a.c",
            "./a.c",
            "../a.c",
            "a/./",
            "..c",
            "...",
            "a\\b.c",
            "é/ü.rs",
            "src/svc00/session_1.c",
            "Dockerfile.dev",
            "x/.mcp.json",
        ] {
            agrees(path);
        }
    }

    proptest::proptest! {
        #[test]
        fn names_and_extensions_agree_with_path(path in "[a./\\\\é]{0,10}") {
            agrees(&path);
        }
    }
}
