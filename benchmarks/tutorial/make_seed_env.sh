#!/usr/bin/env bash
# Builds the virtualenv the tutorial's app (seed_app.py) runs in, its 2019-era stack:
#   make_seed_env.sh DIR      (bench.py uses benchmarks/results/seed-env; prints DIR when done)
# Does nothing when DIR holds a finished build; a build cut short is redone. Needs PyPI, once.
# PYTHON picks the interpreter (python3 by default).
#
# Flask-JWT 0.3.2 pins PyJWT 1.4.x, which still imports Mapping and friends from `collections`;
# Python 3.10 removed those aliases. A sitecustomize.py inside this venv (and nowhere else)
# puts them back from collections.abc so that the old code imports unchanged.
set -euo pipefail
dir=${1:?usage: make_seed_env.sh DIR}
done_marker=$dir/.seed-env-built

if [[ ! -e $done_marker ]]; then
  if [[ -d $dir && -n $(ls -A "$dir") && ! -e $dir/pyvenv.cfg ]]; then
    echo "make_seed_env.sh: $dir is not empty and not a virtualenv; not touching it" >&2
    exit 1
  fi
  "${PYTHON:-python3}" -m venv --clear "$dir"  # a build cut short starts again from nothing
  "$dir/bin/pip" install --quiet --disable-pip-version-check \
    "flask==2.2.5" "werkzeug==2.2.3" "flask-jwt==0.3.2" "flask-sqlalchemy==3.0.5" \
    "sqlalchemy<2.1" passlib gunicorn >&2
  site_packages=$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  cat >"$site_packages/sitecustomize.py" <<'PY'
# For PyJWT 1.4 (Flask-JWT 0.3.2) on Python >= 3.10, in the benchmark's baseline venv only.
import collections
import collections.abc

for name in ("Mapping", "MutableMapping", "Iterable", "Sequence", "Callable"):
    setattr(collections, name, getattr(collections.abc, name))
PY
  "$dir/bin/python" -c 'import flask_jwt, flask_sqlalchemy, passlib.hash' # the shim works
  touch "$done_marker"
fi
echo "$dir"
