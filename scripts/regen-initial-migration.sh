#!/usr/bin/env bash
# Development only, until the first release: rebuild the single initial
# migration from the models. After a release, add migrations instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*_initial_schema.py
SSJ_INSTANCE_PATH="$tmp" SSJ_DATABASE_URL="sqlite:///$tmp/regen.sqlite3" .venv/bin/flask --app app db migrate -m "initial schema" --rev-id 0001 >/dev/null
rm -rf "$tmp"
ls migrations/versions/
