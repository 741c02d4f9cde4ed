from db import db
from flask_jwt import current_identity, jwt_required
from flask_restful import Resource
from models import Store


class StoreResource(Resource):
    @jwt_required()
    def get(self, name):
        store = Store.query.filter_by(name=name).first()
        return store.as_dict() if store else ({'message': 'Store not found'}, 404)

    @jwt_required()
    def post(self, name):
        if Store.query.filter_by(name=name).first():
            return {'message': f"A store with name '{name}' already exists."}, 400
        store = Store(name=name, owner_id=current_identity.id)
        db.session.add(store)
        db.session.commit()
        return store.as_dict(), 201


class StoreList(Resource):
    def get(self):
        return {'stores': [store.as_dict() for store in Store.query.all()]}
