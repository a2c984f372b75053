#!/usr/bin/env bash
# Microsoft's SARIF multitool (npm @microsoft/sarif-multitool, the format owners' validator,
# which also knows GitHub's ingestion rules) for tests/sarif_multitool.rs. Installs it once into
# a cache directory and prints the path of the Sarif.Multitool binary on standard output
# (everything else goes to standard error), for `.ci/run` to export as SARIF_MULTITOOL.
#
# Cache: $THREAT_ANALYZER_CI_CACHE (default /var/cache/threat-analyzer-ci, or
# $HOME/.cache/threat-analyzer-ci when /var/cache is not writable), one directory per pinned
# version, published by an atomic rename only once complete (as tests/editors/vscode/prepare.sh).
# About 104 MB: the npm package carries a self-contained .NET build per platform.
set -euo pipefail

version=5.7.0

cache=${THREAT_ANALYZER_CI_CACHE:-}
if [ -z "$cache" ]; then
  if mkdir -p /var/cache/threat-analyzer-ci 2>/dev/null && [ -w /var/cache/threat-analyzer-ci ]; then
    cache=/var/cache/threat-analyzer-ci
  else
    cache=$HOME/.cache/threat-analyzer-ci
  fi
fi
mkdir -p "$cache"

dir=$cache/sarif-multitool-$version
tool=$dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
if [ ! -f "$tool" ]; then
  echo "install-sarif-multitool.sh: installing @microsoft/sarif-multitool@$version into $dir" >&2
  tmp=$(mktemp -d "$cache/.sarif-multitool.XXXXXX")
  (cd "$tmp" && npm install --silent --no-save --no-package-lock --no-audit --no-fund \
    "@microsoft/sarif-multitool@$version" >&2)
  if ! mv -T "$tmp" "$dir" 2>/dev/null; then
    rm -rf "$tmp" # another run published it first
  fi
fi
# The package's postinstall step, which marks the binary executable, may be blocked.
[ -x "$tool" ] || chmod u+x "$tool"
"$tool" --version >/dev/null
echo "$tool"
