#!/usr/bin/env bash
# Usage: source .ci/venv.sh NAME REQUIREMENTS...
# Creates (once) the virtualenv .venv-NAME at the repository root, installs the
# pinned requirements into it and activates it in the calling shell.
_venv_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_venv_name="$1"; shift
_venv_dir="$_venv_root/.venv-$_venv_name"
if [ ! -x "$_venv_dir/bin/python" ]; then
  python3 -m venv "$_venv_dir"
  "$_venv_dir/bin/pip" install --quiet --upgrade pip
fi
for _req in "$@"; do
  "$_venv_dir/bin/pip" install --quiet --disable-pip-version-check -r "$_req"
done
# shellcheck disable=SC1091
source "$_venv_dir/bin/activate"
