#!/usr/bin/env bash
# Builds a project-local Python virtualenv from pinned requirements, once:
#   ensure-venv.sh <venv folder> <requirements file> <executable it must provide>
# A stamp holding the requirements' hash tells whether the venv matches them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/$1"
req="$root/$2"
bin="$venv/bin/$3"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "Setting up the virtualenv $1 from $2 (once; about a minute)..." >&2
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
