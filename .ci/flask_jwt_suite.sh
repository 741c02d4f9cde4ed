#!/usr/bin/env bash
# Flask-JWT 0.3.2's own test suite, unchanged, against jwtauthtest/flask_jwt.py: the sdist
# fetched from PyPI (pinned version and hash), its tests/ run with `flask_jwt` aliased to our
# module. Nothing of it is kept.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "flask-jwt==0.3.2 --hash=sha256:49c0672fbde0f1cd3374bd834918d28956e3c521c7e00089cdc5380d323bd0ad" \
  >"$work/requirements.txt"
python="$(cd "$repo" && python3 -m pipenv --venv)/bin/python"
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
  --require-hashes -r "$work/requirements.txt" -d "$work"
tar xzf "$work/Flask-JWT-0.3.2.tar.gz" -C "$work"
cp "$repo/.ci/alias_flask_jwt.py" "$work/"
printf '[pytest]\n' >"$work/pytest.ini"  # (the sdist's setup.cfg has a [pytest] pytest 8 refuses)
cd "$work"
PYTHONPATH="$work:$repo" "$python" -m pytest -c pytest.ini -p alias_flask_jwt -p no:cacheprovider \
  -q Flask-JWT-0.3.2/tests
