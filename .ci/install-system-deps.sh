#!/usr/bin/env bash
# System packages the test suite needs on Debian 12 (run as root, no stdin):
#   libreoffice-calc-nogui  headless `soffice`, the independent formula calculator
#                           used by tests/lo_recalc.py
#   libreoffice-writer-nogui  so the same `soffice` opens the Word reports (tests/test_word.py)
#   poppler-utils           pdftoppm / pdftotext / pdffonts for the PDF checks
#   fonts-wqy-zenhei        a CJK font, so Chinese text renders in the PDFs
#   postgresql              the server the store tests run a throwaway cluster of (tests/pgserver.py)
#   python3-uno             LibreOffice's Python bridge: tests/lo_edit.py inserts rows the way a user
#                           does (Calc rewrites formulas and names), to check such returns
#   chromium                the browser the end-to-end tests of `perfxl serve` drive with Playwright
#                           (tests/test_web_e2e.py; Playwright never downloads a browser of its own)
# Idempotent: does nothing when all of them are already there.
set -euo pipefail

packages=(libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-wqy-zenhei postgresql python3-uno chromium)

have_cjk_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; }
have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
have_writer() { compgen -G "/usr/lib/libreoffice/program/libswlo.so" >/dev/null; }
have_uno() { /usr/bin/python3 -c "import uno" >/dev/null 2>&1; }
have_chromium() { [ -x /usr/bin/chromium ]; }
if command -v soffice >/dev/null 2>&1 && have_writer && command -v pdftoppm >/dev/null 2>&1 && have_cjk_font \
    && have_postgres && have_uno && have_chromium; then
    echo "install-system-deps: soffice (Calc, Writer), pdftoppm, a Chinese font, PostgreSQL, python3-uno and Chromium already present, nothing to do"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "install-system-deps: not root and no sudo; please install: ${packages[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { $sudo apt-get update -qq &&
       $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"; } \
       </dev/null >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-system-deps: apt-get failed installing: ${packages[*]}" >&2
    exit 1
fi
echo "install-system-deps: installed ${packages[*]} ($(soffice --version 2>/dev/null | head -n1))"
