#!/usr/bin/env bash
# Installs headless Chromium (Debian `chromium`) and a font for the HTML report rendering
# tests (tests/render_html_chromium.rs), and poppler-utils for looking at printed pages.
# Idempotent: does nothing when everything is already there. Runs as root on Debian.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
