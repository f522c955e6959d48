"""The MongoDB adapter (PyMongo async in production, mongomock-motor in CI)."""

from storage.mongo.adapter import MongoStorage

__all__ = ["MongoStorage"]
