#!/usr/bin/env bash
# Real-editor test: the VS Code extension (editors/vscode) in a real workbench. code-server (VS
# Code 1.139's workbench and extension host) is driven with playwright-core and Debian's
# Chromium on a copy of examples/webshop: the exposure reaches the Problems view and the status
# bar, completion after `#` lists threat ids, go-to-definition jumps, and the data-flow diagram
# panel renders the server's SVG and opens the annotation of a clicked element
# (tests/editors/vscode/e2e.cjs). Then a hostile workspace, whose .vscode/settings.json names
# its own script as the server, is opened trusted and in Restricted Mode: the script never runs
# (issue 12, item 1). Screenshots: $CARGO_TARGET_DIR/editors-artifacts/*.png.
#
#   tests/editors/run-vscode.sh                       build, package, test
#   tests/editors/run-vscode.sh --hostile             only the hostile-workspace sessions
#   tests/editors/run-vscode.sh --self-check          also prove the test can fail (a wrong line)
#   tests/editors/run-vscode.sh --update-screenshot   also refresh editors/vscode/images/screenshot.png
#   SERVER=/path/to/threat-analyzer tests/editors/run-vscode.sh   test that binary (no cargo build)
#
# Prerequisites (Node 24, code-server built once, playwright-core, chromium) are installed and
# cached by tests/editors/vscode/prepare.sh under /var/cache/threat-analyzer-ci. Without them,
# CI=true fails; otherwise the test is skipped with the reason.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

self_check=0
update_screenshot=0
hostile_only=0
for arg in "$@"; do
  case "$arg" in
    --self-check) self_check=1 ;;
    --update-screenshot) update_screenshot=1 ;;
    --hostile) hostile_only=1 ;;
    *) echo "usage: $0 [--self-check] [--update-screenshot] [--hostile]" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
step() { echo "== [$(($(date +%s) - started))s] $*"; }

# 1. Prerequisites.
step "prerequisites"
if ! prepared=$(tests/editors/vscode/prepare.sh); then
  if [ "${CI:-}" = true ]; then
    echo "run-vscode.sh: FAIL: the prerequisites could not be installed (see above)" >&2
    exit 1
  fi
  echo "run-vscode.sh: SKIP: the prerequisites could not be installed (see above); CI=true makes this a failure"
  exit 0
fi
eval "$prepared"
node24_dir=$(dirname "$NODE24")

# 2. The server (SERVER=/path/to/threat-analyzer skips the build).
step "server"
target_dir=${CARGO_TARGET_DIR:-$repo/target}
case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
if [ -n "${SERVER:-}" ]; then
  built=$SERVER
else
  cargo build --quiet --bin threat-analyzer
  built="$target_dir/debug/threat-analyzer"
fi
[ -x "$built" ] || { echo "run-vscode.sh: no server binary at $built" >&2; exit 1; }
artifacts="$target_dir/editors-artifacts"
mkdir -p "$artifacts"
rm -f "$artifacts"/vscode-*.png "$artifacts"/vscode-server-output-*.log
tmp=$(mktemp -d)
# The binary as built now: a later build into a shared target directory must not change the
# server under a running test (a hard link keeps this version; cargo replaces the file).
server="$tmp/threat-analyzer"
ln "$built" "$server" 2>/dev/null || cp "$built" "$server"

# 3. The extension: install exactly the lock file (again only when it changed), unit tests, .vsix.
vsix="$tmp/threat-analyzer.vsix"
step "extension: npm ci, npm test, vsce package"
(
  cd editors/vscode
  lock_sum=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
  if [ "$(cat node_modules/.threat-analyzer-lock 2>/dev/null)" != "$lock_sum" ]; then
    npm ci --no-audit --no-fund --loglevel=error --prefer-offline
    echo "$lock_sum" >node_modules/.threat-analyzer-lock
  fi
  npm test 2>&1 | tail -n 8
  npx --no-install vsce package --no-dependencies --out "$vsix"
)

# 4. code-server with a fresh profile, the .vsix installed, the server configured.
cs_pgid=""
# code-server's entry process forks the real server, which is re-parented to PID 1 but stays in
# the process group setsid gave it: end the whole group, then wait until nothing is left.
stop_code_server() {
  [ -n "$cs_pgid" ] || return 0
  kill -TERM -- "-$cs_pgid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    pgrep -g "$cs_pgid" >/dev/null 2>&1 || break
    sleep 0.1
  done
  kill -KILL -- "-$cs_pgid" 2>/dev/null || true
  cs_pgid=""
}
cleanup() {
  stop_code_server
  rm -rf "$tmp"
}
trap cleanup EXIT

# plant_hostile_workspace WS MARKER: the attack of issue 12, item 1. The repository ships a
# script that records it ran (in MARKER) and then starts the real server, so nothing looks
# wrong, and a .vscode/settings.json naming it as the server (relative, as a repository would)
# and lowering the exposure to a note (so the tests can see the file is read).
plant_hostile_workspace() {
  local ws=$1 marker=$2
  mkdir -p "$ws/tools" "$ws/.vscode"
  printf '#!/bin/sh\necho "planted server ran: $0 $*" >%q\nexec %q "$@"\n' "$marker" "$server" >"$ws/tools/ta-helper"
  chmod +x "$ws/tools/ta-helper"
  cat >"$ws/.vscode/settings.json" <<'JSON'
{
  "threatAnalyzer.server.path": "tools/ta-helper",
  "threatAnalyzer.severity": { "unmitigated-exposure": "note" }
}
JSON
}

# start_code_server NAME TRUST: a fresh profile and workspace under $tmp/NAME; sets cs_url, ws.
# TRUST: `off` (Workspace Trust disabled: every folder trusted, no dialog), `prompt` (enabled,
# the trust dialog asks on start-up) or `restricted` (enabled, no dialog: Restricted Mode).
# With HOSTILE_MARKER set, the workspace is planted (plant_hostile_workspace).
start_code_server() {
  local name=$1 trust=$2
  local dir="$tmp/$name"
  mkdir -p "$dir/user/User" "$dir/extensions"
  ws="$dir/webshop"
  cp -R examples/webshop "$ws"
  mkdir "$ws/.git"
  if [ -n "${HOSTILE_MARKER:-}" ]; then
    plant_hostile_workspace "$ws" "$HOSTILE_MARKER"
  fi
  "$NODE24" "$CODE_SERVER" --user-data-dir "$dir/user" --extensions-dir "$dir/extensions" \
    --install-extension "$vsix" >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log"; echo "run-vscode.sh: installing the .vsix failed" >&2; return 1; }
  node -e '
    const [file, server, trust] = process.argv.slice(1);
    require("fs").writeFileSync(file, JSON.stringify({
      "threatAnalyzer.server.path": server,
      "threatAnalyzer.trace.server": "messages",
      "workbench.startupEditor": "none",
      "workbench.tips.enabled": false,
      "workbench.enableExperiments": false,
      "workbench.secondarySideBar.defaultVisibility": "hidden",
      "chat.disableAIFeatures": true,
      "chat.commandCenter.enabled": false,
      "extensions.ignoreRecommendations": true,
      "telemetry.telemetryLevel": "off",
      "update.mode": "none",
      "git.enabled": false,
      "editor.minimap.enabled": false,
      "files.autoSave": "off",
      "editor.fontSize": 13,
      "window.commandCenter": false,
      "security.workspace.trust.enabled": trust !== "off",
      "security.workspace.trust.startupPrompt": trust === "prompt" ? "always" : "never"
    }, null, 2));
  ' "$dir/user/User/settings.json" "$server" "$trust"
  local trust_flag=()
  [ "$trust" = off ] && trust_flag=(--disable-workspace-trust)
  local port
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$port" >"$dir/config.yaml"
  setsid "$NODE24" "$CODE_SERVER" --config "$dir/config.yaml" --user-data-dir "$dir/user" \
    --extensions-dir "$dir/extensions" --disable-telemetry --disable-update-check \
    "${trust_flag[@]}" --disable-getting-started-override "$ws" >"$dir/code-server.log" 2>&1 &
  cs_pgid=$!
  cs_url="http://127.0.0.1:$port/?folder=$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$ws")"
  for _ in $(seq 1 300); do
    if node -e 'require("http").get(process.argv[1],r=>process.exit(r.statusCode===200?0:1)).on("error",()=>process.exit(1))' \
      "http://127.0.0.1:$port/healthz"; then
      return 0
    fi
    kill -0 "$cs_pgid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$dir/code-server.log"
  echo "run-vscode.sh: code-server did not come up" >&2
  return 1
}

# run_e2e NAME TRUST [ENV=VALUE...]: one workbench session; prints PASS/FAIL lines.
run_e2e() {
  local name=$1 trust=$2
  shift 2
  start_code_server "$name" "$trust"
  local status=0
  env TA_ARTIFACTS="$artifacts" "$@" TA_URL="$cs_url" TA_WORKSPACE="$ws" TA_SERVER="$server" \
    CHROMIUM="$CHROMIUM" PLAYWRIGHT="$PLAYWRIGHT" \
    timeout 600 "$NODE24" tests/editors/vscode/e2e.cjs || status=$?
  stop_code_server
  return $status
}

print_logs() {
  local dir="$tmp/$1"
  echo "---- code-server log (last 60 lines) ----"
  tail -n 60 "$dir/code-server.log" 2>/dev/null || true
  local log
  log=$(find "$dir/user/logs" -name '*Threat Analyzer*' 2>/dev/null | head -n 1)
  echo "---- Threat Analyzer output (${log:-none}, last 80 lines) ----"
  [ -n "$log" ] && tail -n 80 "$log"
  # The whole log outlives the run's temporary directory, for the lines before the last 80.
  [ -n "$log" ] && cp "$log" "$artifacts/vscode-server-output-$1.log" \
    && echo "---- whole Threat Analyzer output kept in $artifacts/vscode-server-output-$1.log ----"
  # The server's own complaints (a panic, a failed request) may lie before the last lines
  # of protocol traces: every such line of the whole log.
  # A server that stopped answering shows as requests sent and never answered: the first
  # of them dates the stall (ids restart with a restarted server: answered by either counts).
  echo "---- requests to the server without a response (first 20) ----"
  if [ -n "$log" ]; then
    local sent answered
    sent=$(sed -n -E "s/.*Sending request '.* - \(([0-9]+)\)'.*/\1/p" "$log" | sort -u)
    answered=$(sed -n -E "s/.*Received response '.* - \(([0-9]+)\)'.*/\1/p" "$log" | sort -u)
    comm -23 <(echo "$sent") <(echo "$answered") | sort -n | head -n 20 | while read -r id; do
      [ -n "$id" ] && grep -F "Sending request" "$log" | grep -m 1 -F -- "- ($id)'" || true
    done
  fi
  echo "---- Threat Analyzer output: errors and panics in the whole log ----"
  if [ -n "$log" ]; then grep -n -i -E 'panick|error|fatal' "$log" | head -n 60 || true; fi
  echo "---- end of logs ----"
}

if [ "$self_check" = 1 ]; then
  step "self-check: expecting the exposure on a wrong line must fail"
  wrong=$(($(grep -n '@exposes Shop.Api.Orders to #idor' examples/webshop/api/orders.py | cut -d: -f1) + 1))
  if run_e2e self-check off TA_EXPECT_LINE="$wrong" TA_ONLY=diagnostics TA_ARTIFACTS="$tmp/self-check-artifacts" | tee "$tmp/self-check.out"; then
    echo "run-vscode.sh: self-check FAILED: the test passed with a wrong expected line" >&2
    exit 1
  fi
  if ! grep -q "^FAIL diagnostics: unmitigated-exposure at [0-9]*:[0-9]*, want $wrong:" "$tmp/self-check.out"; then
    echo "run-vscode.sh: self-check FAILED: the diagnostics check did not report the wrong line" >&2
    exit 1
  fi
  echo "== self-check: OK (the test fails when the expectation is wrong)"
fi

cs_version=$(basename "$(dirname "$(dirname "$(dirname "$CODE_SERVER")")")")
chromium_version=$("$CHROMIUM" --version 2>/dev/null || echo "chromium ?")
step "code-server $cs_version, $chromium_version, server: $server"
if [ "$hostile_only" = 0 ]; then
  if run_e2e main off; then
    step "main session: PASS"
  else
    print_logs main
    echo "run-vscode.sh: FAIL" >&2
    exit 1
  fi
fi

# The hostile workspace, trusted through the dialog and in Restricted Mode: its script never
# runs (the marker stays absent) and the user's server does.
for trust in prompt restricted; do
  name=hostile-$trust
  marker="$tmp/$name.marker"
  hostile=$([ "$trust" = prompt ] && echo trusted || echo restricted)
  step "hostile workspace, $hostile"
  if ! HOSTILE_MARKER="$marker" run_e2e "$name" "$trust" TA_HOSTILE="$hostile" TA_MARKER="$marker"; then
    print_logs "$name"
    echo "run-vscode.sh: FAIL (hostile workspace, $hostile)" >&2
    exit 1
  fi
done
step "run-vscode.sh: PASS (screenshots in $artifacts)"

if [ "$update_screenshot" = 1 ]; then
  # The Marketplace page's picture: a palette-reduced copy of the overview screenshot.
  convert "$artifacts/vscode-overview.png" -colors 256 PNG8:editors/vscode/images/screenshot.png
  echo "updated editors/vscode/images/screenshot.png ($(stat -c %s editors/vscode/images/screenshot.png) bytes)"
fi
