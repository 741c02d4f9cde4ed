#!/usr/bin/env bash
# flask-jwt-revived, as its users get it: the wheel and the sdist built, their metadata checked
# (twine check), then in fresh virtual environments holding the wheel alone (no checkout on the
# path) Flask-JWT 0.3.2's own suite, unchanged, and the distribution's own tests: once with the
# releases Pipfile.lock pins, once with the lowest the distribution allows. Last, the course-style
# apps of its tests, as their owners would try them: with their own requirements from PyPI.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python="$(cd "$repo" && ./pipenv --venv)/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1

"$python" -m build --outdir "$work/dist" "$repo/flask-jwt-revived" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; exit 1; }
"$python" -m twine check --strict "$work"/dist/*
wheel=$(ls "$work"/dist/*.whl)
"$python" - "$wheel" <<'PY'  # the wheel's metadata, up to its README
import sys, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
print(wheel.read(name).decode().split("\n\n")[0])
PY

# 0.3.2's suite: its sdist from PyPI (pinned version and hash); only its tests/ are kept, so
# that its own flask_jwt/ can't shadow the wheel.
echo "flask-jwt==0.3.2 --hash=sha256:49c0672fbde0f1cd3374bd834918d28956e3c521c7e00089cdc5380d323bd0ad" \
  >"$work/flask-jwt-0.3.2.txt"
"$python" -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
  -r "$work/flask-jwt-0.3.2.txt" -d "$work"
tar xzf "$work/Flask-JWT-0.3.2.tar.gz" -C "$work"
mkdir "$work/suite-0.3.2"
mv "$work/Flask-JWT-0.3.2/tests" "$work/suite-0.3.2/"
rm -rf "$work/Flask-JWT-0.3.2" "$work/suite-0.3.2/tests/"*.pyc
printf '[pytest]\n' >"$work/suite-0.3.2/pytest.ini"  # (its setup.cfg has a [pytest] pytest 8 refuses)

# The distribution's tests, from the sdist (which must hold them): its src/ is not importable
# from there, and FLASK_JWT_TEST_WHEEL makes them refuse to run on anything but site-packages.
tar xzf "$work"/dist/*.tar.gz -C "$work"
sdist=$(ls -d "$work"/flask_jwt_revived-*/)

(cd "$repo" && ./pipenv requirements --dev 2>/dev/null) | grep -v '^-' |
  sed 's/\[[^]]*\]//' >"$work/locked.txt"  # (pip takes no extras in constraints)
printf 'Flask==2.3.2\nWerkzeug==2.3.3\nPyJWT==2.13.0\n' >"$work/lowest.txt"

# The locked releases on this python3; the lowest allowed on the lowest Python the distribution
# claims, when FLASK_JWT_LOWEST_PYTHON names it (.ci/run does).
for releases in locked lowest; do
  venv="$work/venv-$releases"
  interpreter=python3
  [ "$releases" = lowest ] && interpreter="${FLASK_JWT_LOWEST_PYTHON:-python3}"
  "$interpreter" -m venv "$venv"
  "$venv/bin/pip" install --quiet "$wheel" pytest flask-restful asgiref -c "$work/$releases.txt"
  "$venv/bin/python" -c 'from importlib.metadata import version as v
import sys
print("== .ci/flask_jwt_dist.sh: the wheel on Python", sys.version.split()[0], "with",
      ", ".join(f"{n} {v(n)}" for n in ("Flask", "Werkzeug", "PyJWT")))'
  echo -n "Flask-JWT 0.3.2's own suite: "
  (cd "$work/suite-0.3.2" && "$venv/bin/python" -m pytest -c pytest.ini -p no:cacheprovider -q tests |
    tail -1)
  echo -n "flask-jwt-revived/tests: "
  (cd "$sdist" && FLASK_JWT_TEST_WHEEL=1 "$venv/bin/python" -m pytest -p no:cacheprovider -q |
    tail -1)
done

# The course-style apps (tests/course_apps): as they were with the wheel in Flask-JWT's place,
# after the wheel's flask-jwt-upgrade --write, and after the changes it leaves for by hand, each
# in a clean virtual environment; pip's cache is the one the installs above filled.
started=$SECONDS
"$work/venv-locked/bin/python" "$sdist/tests/run_course_apps.py" "$wheel" "$work/course-apps"
echo "== .ci/flask_jwt_dist.sh: the course apps took $((SECONDS - started)) s"
