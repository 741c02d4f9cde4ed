"""The API's own views."""

from flask import Blueprint

from .jwt import jwt_required

bp = Blueprint("views", __name__)


@bp.route("/hello")
@jwt_required()
def hello() -> str:
    return "Hello world!"
