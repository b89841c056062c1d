"""collide: inter-agency data-matching engine for legal-supervision models (数据碰撞)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Project", "__version__"]


def __getattr__(name: str):
    # Imported lazily so that `collide --help` does not pay for DuckDB, polars and friends.
    if name == "Project":
        from collide.project import Project

        return Project
    raise AttributeError(name)
