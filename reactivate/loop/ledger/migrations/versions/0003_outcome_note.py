"""Outcome notes: the next step an RM wrote beside a result in a returned list (``record --lists``).

A nullable column: the outcomes recorded before (and those of outcome files) have none.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outcomes", sa.Column("note", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("note")
