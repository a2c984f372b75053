/**
 * From a clicked diagram element to the annotation that defines it. The diagram's ids are
 * derived from model keys (`n_` + key with `.` as `__`, `b_` for boundaries, `g_` for component
 * groups of ThreatSpec colon paths; hashed `nh_`/`bh_`/`gh_` ids when the key is not plain, see
 * src/render/dfd.rs); the server's `workspace/symbol`
 * matches names and `#ids` case-insensitively with space, `-` and `_` alike. This module
 * builds the queries and picks the symbol that names the element.
 */

export interface SymbolLike {
  name: string;
  containerName?: string;
}

/** The model key of a plain diagram id (`n_shop__api` -> `shop.api`, `g_calc__web` -> `calc.web`), else undefined. */
export function keyOfId(id: string): string | undefined {
  const m = /^[nbg]_([a-z0-9_]+)$/.exec(id);
  if (!m) {
    return undefined;
  }
  const segments = m[1].split('__');
  return segments.every((s) => s !== '') ? segments.join('.') : undefined;
}

/** A name as the server compares it, plus `:` and `.` alike (`Webshop:Worker`, `webshop.worker`). */
export function foldName(name: string): string {
  return name
    .trim()
    .replace(/^[#@]/, '')
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ')
    .replace(/:/g, '.');
}

/** The `workspace/symbol` queries for an element, best first, without duplicates. */
export function symbolQueries(id: string, label: string): string[] {
  const out: string[] = [];
  for (const q of [keyOfId(id), label.trim()]) {
    if (q !== undefined && q !== '' && !out.includes(q)) {
      out.push(q);
    }
  }
  return out;
}

/** The symbol defining the element: its name or `#id` equals one of the queries (folded). */
export function pickSymbol<S extends SymbolLike>(symbols: readonly S[], queries: readonly string[]): S | undefined {
  const wanted = new Set(queries.map(foldName));
  return symbols.find((s) => wanted.has(foldName(s.name)) || (s.containerName !== undefined && wanted.has(foldName(s.containerName))));
}
