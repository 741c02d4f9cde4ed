from models.user import UserModel
from werkzeug.security import safe_str_cmp


def authenticate(username, password):
    user = UserModel.find_by_username(username)
    if user is not None and safe_str_cmp(user.password, password):
        return user
    return None


def identity(payload):
    return UserModel.find_by_id(payload['identity'])
