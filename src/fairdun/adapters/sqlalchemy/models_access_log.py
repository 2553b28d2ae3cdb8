"""Tables of migration 0010: see that migration's docstring."""

from __future__ import annotations

from fairdun.adapters.sqlalchemy.models import Base

__all__ = ["Base"]
