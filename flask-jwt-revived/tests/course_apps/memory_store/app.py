from flask import Flask
from flask_jwt import JWT, current_identity, jwt_required
from flask_restful import Api, Resource
from security import authenticate, identity

app = Flask(__name__)
app.secret_key = 'jose'
api = Api(app)

jwt = JWT(app, authenticate, identity)  # POST /auth

stores = []


class Store(Resource):
    @jwt_required()
    def get(self, name):
        for store in stores:
            if store['name'] == name:
                return store
        return {'message': 'Store not found'}, 404

    @jwt_required()
    def post(self, name):
        if any(store['name'] == name for store in stores):
            return {'message': f"A store named '{name}' already exists."}, 400
        store = {'name': name, 'owner': current_identity.username, 'items': []}
        stores.append(store)
        return store, 201


class StoreList(Resource):
    def get(self):
        return {'stores': stores}


api.add_resource(Store, '/store/<string:name>')
api.add_resource(StoreList, '/stores')

if __name__ == '__main__':
    app.run(port=5000)
