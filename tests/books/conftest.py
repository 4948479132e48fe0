"""The books' end-to-end tests run on the engine's own stack (Redis, sandbox, processes)."""

from tests.engine.conftest import engine

__all__ = ["engine"]
