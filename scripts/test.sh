#!/usr/bin/env bash
# Install everything into .venv and run the whole suite: lint, types, import contracts, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
# -n auto: one pytest worker per core (pytest-xdist); worksteal evens out the long tests.
# Extra arguments pass through, e.g. `scripts/test.sh -m "not slow"` or `-n 0` for serial.
echo "== pytest"; .venv/bin/pytest -q -p no:cacheprovider -n auto --dist worksteal "$@"
