"""A pytest plugin for Flask-JWT 0.3.2's own suite: `import flask_jwt` gets ours."""

import sys

import jwtauthtest.flask_jwt

sys.modules["flask_jwt"] = jwtauthtest.flask_jwt
