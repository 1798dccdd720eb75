"""Registers every room's ORM tables on core.db.Base.metadata (for Alembic and tests)."""

from importlib import import_module
from importlib.util import find_spec

MODEL_MODULES = ("orders.models", "broadcasts.models", "bot.models", "web.models")

for _name in MODEL_MODULES:
    if find_spec(_name) is not None:
        import_module(_name)
