"""The tutorial's app ("User authentication with Flask-JWT") on its own era's stack: Flask-JWT
0.3.2, Flask 2.2, Flask-SQLAlchemy, passlib pbkdf2_sha256. The baseline benchmarks/bench.py
measures our server against.

Serve it from the environment that make_seed_env.sh builds, as bench.py does:
    cd benchmarks/tutorial
    SEED_DB=/tmp/seed.sqlite "$SEED/bin/gunicorn" --preload -w 2 -b 127.0.0.1:8001 seed_app:app
It has one user, admin / mysupersecretpassword; GET /hello needs `Authorization: JWT <token>` from
POST /auth, GET /bare answers without authentication.
"""
# The tutorial's code, kept as the baseline: leave it as it is (SEED_DB and /bare are there for
# the benchmark; the noqa below only quiets our linter about its hard-coded key), so that every
# run compares against the same app. Making it faster, or bringing it up to date, would move the
# baseline and the ratios with it.
import os
import tempfile

from flask import Flask
from flask_jwt import JWT, jwt_required
from flask_sqlalchemy import SQLAlchemy
from passlib.hash import pbkdf2_sha256

app = Flask(__name__)
app.config["SECRET_KEY"] = "seed-baseline-secret-key-seed-baseline-secret"  # noqa: S105
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ.get(
    "SEED_DB", os.path.join(tempfile.gettempdir(), "seed-baseline.sqlite"))
db = SQLAlchemy(app)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)
    password = db.Column(db.String(200), nullable=False)


def authenticate(username, password):
    user = User.query.filter_by(username=username).first()
    if user and pbkdf2_sha256.verify(password, user.password):
        return user


def identity(payload):
    return db.session.get(User, payload["identity"])


jwt = JWT(app, authenticate, identity)


@app.route("/hello")
@jwt_required()
def hello():
    return "Hello world!"


@app.route("/bare")
def bare():
    return "Hello world!"


with app.app_context():
    db.create_all()
    if not User.query.filter_by(username="admin").first():
        db.session.add(User(username="admin", password=pbkdf2_sha256.hash("mysupersecretpassword")))
        db.session.commit()
