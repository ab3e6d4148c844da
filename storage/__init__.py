"""Storage: the SQL and Redis implementations of the core's ports.

``db`` opens engines and turns connection failures into ``StorageUnavailable``;
``tables`` holds the SQLAlchemy models; ``repositories`` map rows to core types;
``uow`` is the unit of work the use cases open; ``migrate`` applies the Alembic
migrations shipped in ``migrations/``.
"""
