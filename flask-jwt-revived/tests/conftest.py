"""Fixtures for Flask-JWT-Revived's own tests."""

import os
from pathlib import Path

import flask_jwt
import pytest
from flask import Flask

from jwt_apps import make_app


def pytest_report_header() -> str:
    return f"flask_jwt {flask_jwt.__version__} from {Path(flask_jwt.__file__).parent}"


def pytest_configure() -> None:
    # CI runs these tests on the built wheel: they must not pass on a checkout's src/.
    if os.environ.get("FLASK_JWT_TEST_WHEEL") and "site-packages" not in flask_jwt.__file__:
        raise pytest.UsageError(f"flask_jwt is imported from {flask_jwt.__file__}, not a wheel")


@pytest.fixture
def app() -> Flask:
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
