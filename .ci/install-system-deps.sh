#!/usr/bin/env bash
# System packages the test suite needs on Debian 12 (run as root, no stdin):
#   libreoffice-calc-nogui  headless `soffice`, the independent formula calculator
#                           used by tests/lo_recalc.py
#   poppler-utils           pdftoppm / pdftotext / pdffonts for the PDF checks
#   fonts-wqy-zenhei        a CJK font, so Chinese text renders in the PDFs
# Idempotent: does nothing when soffice and pdftoppm are already on PATH.
set -euo pipefail

packages=(libreoffice-calc-nogui poppler-utils fonts-wqy-zenhei)

if command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then
    echo "install-system-deps: soffice and pdftoppm already present, nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-system-deps: soffice/pdftoppm missing and not root; install: ${packages[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq &&
       apt-get install -y -qq --no-install-recommends "${packages[@]}"; } \
       </dev/null >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-system-deps: apt-get failed installing: ${packages[*]}" >&2
    exit 1
fi
echo "install-system-deps: installed ${packages[*]} ($(soffice --version 2>/dev/null | head -n1))"
