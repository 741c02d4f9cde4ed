"""The upgrade checker: what an app written against Flask-JWT 0.3.2 must change to run on
Flask 3, PyJWT 2 and Flask-JWT-Revived, and the changes it can make itself.

Run it as ``python -m flask_jwt.upgrade [--write] PATH`` or ``flask-jwt-upgrade [--write]
PATH``. It reads the app's ``.py`` files, ``requirements*.txt`` and ``Pipfile``; it never
imports or runs them. May import the standard library only (and itself, not the rest of
``flask_jwt``).
"""
