/**
 * The languages the server reads (its registry, `src/syntax/language.rs`, `Language::name`, as
 * generated into `generated/languages.json` for the tests) and the VS Code language ids of each. One table, so activation events, the document selector
 * and the tests that compare it with the server's registry cannot drift apart.
 */

/** Server language name -> VS Code language ids. */
export const SERVER_LANGUAGES: Readonly<Record<string, readonly string[]>> = {
  python: ['python'],
  rust: ['rust'],
  javascript: ['javascript', 'javascriptreact'],
  typescript: ['typescript'],
  tsx: ['typescriptreact'],
  go: ['go'],
  java: ['java'],
  c: ['c'],
  cpp: ['cpp'],
  csharp: ['csharp'],
  ruby: ['ruby'],
  php: ['php'],
  bash: ['shellscript'],
  yaml: ['yaml'],
  // HashiCorp's extension calls Terraform files `terraform`; others use `hcl`.
  hcl: ['terraform', 'hcl'],
  toml: ['toml'],
  kotlin: ['kotlin'],
  swift: ['swift'],
  scala: ['scala'],
  lua: ['lua'],
  json: ['json', 'jsonc'],
  dockerfile: ['dockerfile'],
  gal: ['gal'],
  threatspec: ['threatspec'],
  text: ['plaintext'],
};

/**
 * Languages whose VS Code id covers more files than the server reads: `plaintext` is also
 * every file VS Code does not recognise (logs, `.csv`), while the server reads only `.txt`
 * (and of those only the ones the project names: threatspec.yaml `paths`, the `include` setting).
 */
const FILE_PATTERNS: Readonly<Record<string, string>> = {
  plaintext: '**/*.txt',
};

/** Every VS Code language id the extension serves, sorted, without duplicates. */
export function vscodeLanguageIds(): string[] {
  return [...new Set(Object.values(SERVER_LANGUAGES).flat())].sort();
}

export interface DocumentFilter {
  scheme: string;
  language: string;
  pattern?: string;
}

/** The language client's document selector: files on disk and unsaved buffers. */
export function documentSelector(): DocumentFilter[] {
  const filters: DocumentFilter[] = [];
  for (const language of vscodeLanguageIds()) {
    const pattern = FILE_PATTERNS[language];
    filters.push(pattern ? { scheme: 'file', language, pattern } : { scheme: 'file', language });
    filters.push({ scheme: 'untitled', language });
  }
  return filters;
}

/** The `activationEvents` the manifest must list. */
export function activationEvents(): string[] {
  return [
    ...vscodeLanguageIds().map((id) => `onLanguage:${id}`),
    'workspaceContains:**/threatspec.yaml',
    'workspaceContains:**/*.gal',
    'workspaceContains:**/*.threatspec',
  ];
}
