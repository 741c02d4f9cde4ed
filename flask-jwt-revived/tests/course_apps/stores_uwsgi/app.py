import os

from auth import authenticate, identity
from db import db
from flask import Flask, jsonify, request
from flask_jwt import JWT, current_identity, jwt_required, timedelta
from flask_restful import Api
from models import User
from resources import StoreList, StoreResource

app = Flask(__name__)
app.config['SQLALCHEMY_DATABASE_URI'] = os.environ.get('DATABASE_URL', 'sqlite:///data.db')
app.config['SQLALCHEMY_TRACK_MODIFICATIONS'] = False
app.config['PROPAGATE_EXCEPTIONS'] = True
app.config['JWT_AUTH_URL_RULE'] = '/login'
app.config['JWT_EXPIRATION_DELTA'] = timedelta(seconds=1800)
app.secret_key = 'jose'
api = Api(app)

jwt = JWT(app, authenticate, identity)


@jwt.auth_response_handler
def customized_response_handler(access_token, identity):
    return jsonify({'access_token': access_token.decode('utf-8'), 'user_id': identity.id})


@app.route('/signup', methods=['POST'])
def signup():
    data = request.get_json()
    if User.query.filter_by(name=data['username']).first():
        return jsonify({'message': 'That username is taken.'}), 400
    db.session.add(User(name=data['username'], password=data['password']))
    db.session.commit()
    return jsonify({'message': 'Signed up.'}), 201


@app.route('/whoami')
@jwt_required()
def whoami():
    return jsonify({'user_id': current_identity.id, 'username': current_identity.name})


api.add_resource(StoreResource, '/store/<string:name>')
api.add_resource(StoreList, '/stores')
