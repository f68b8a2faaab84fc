#!/bin/sh
# Translation tests with the eHDSI validators: makes a venv with saxonche + lxml (once), then runs
# the translate_* tests against the shared reference folder (NCPEH_SHARED, default ../shared).
set -eu
cd "$(dirname "$0")/.."
: "${NCPEH_SHARED:=$(cd .. && pwd)/shared}"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import saxonche, lxml' 2>/dev/null; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet saxonche lxml
fi
export NCPEH_SHARED NCPEH_PYTHON="$PWD/.venv/bin/python"
exec cargo test --test translate_ps --test translate_ep --test translate_ed --test translate_nb \
    --test translate_errors --test translate_terminology --test translate_fuzz_smoke -- --nocapture
