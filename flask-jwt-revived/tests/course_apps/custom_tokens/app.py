from datetime import datetime

import jwt
from flask import Flask, jsonify
from flask_jwt import JWT, current_identity, jwt_required
from flask_restful import Api, Resource
from werkzeug.security import check_password_hash, generate_password_hash

app = Flask(__name__)
app.config['SECRET_KEY'] = 'dev-key-change-me'
app.config['JWT_AUTH_HEADER_PREFIX'] = 'Bearer'
api = Api(app)


class Account:
    def __init__(self, id, username, password, role):
        self.id = id
        self.username = username
        self.password_hash = generate_password_hash(password)
        self.role = role


ACCOUNTS = [
    Account(1, 'ada', 'lovelace', 'admin'),
    Account(2, 'alan', 'turing', 'member'),
]


def authenticate(username, password):
    for account in ACCOUNTS:
        if account.username == username and check_password_hash(account.password_hash,
                                                                 password):
            return account


def identity(payload):
    for account in ACCOUNTS:
        if account.id == payload['identity']:
            return account


auth = JWT(app, authenticate, identity)


@auth.jwt_encode_handler
def encode_token(identity):
    now = datetime.utcnow()
    payload = {
        'identity': identity.id,
        'role': identity.role,
        'iat': now,
        'nbf': now,
        'exp': now + app.config['JWT_EXPIRATION_DELTA'],
    }
    return jwt.encode(payload, app.config['SECRET_KEY'], algorithm='HS256').decode('utf-8')


@auth.jwt_decode_handler
def decode_token(token):
    return jwt.decode(token, app.config['SECRET_KEY'], leeway=app.config['JWT_LEEWAY'])


@auth.auth_response_handler
def login_response(access_token, identity):
    return jsonify({'access_token': access_token, 'role': identity.role})


class Profile(Resource):
    @jwt_required()
    def get(self):
        return {'username': current_identity.username, 'role': current_identity.role}


api.add_resource(Profile, '/profile')

if __name__ == '__main__':
    app.run(port=5000)
