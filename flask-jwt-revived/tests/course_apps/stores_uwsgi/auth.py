from models import User
from werkzeug.security import safe_str_cmp


def authenticate(username, password):
    user = User.query.filter_by(name=username).first()
    if user and safe_str_cmp(user.password.encode('utf-8'), password.encode('utf-8')):
        return user


def identity(payload):
    return User.query.get(payload['identity'])
