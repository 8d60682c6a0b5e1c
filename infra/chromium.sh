#!/usr/bin/env bash
# Make sure a headless Chromium and its driver are installed (Debian packages chromium, chromium-driver) for the
# web test (tests/service/test_ui.py). Best effort: without root or a package mirror it says so and exits 0,
# and the test skips with that reason.
set -uo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "infra/chromium.sh: no apt-get; the web test will skip" >&2; exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "infra/chromium.sh: not root; install chromium and chromium-driver for the web test" >&2; exit 0; fi
fi
export DEBIAN_FRONTEND=noninteractive
{ $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver; } >/dev/null 2>&1 \
  || echo "infra/chromium.sh: could not install chromium; the web test will skip" >&2
exit 0
