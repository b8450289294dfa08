"""Assignments: who each run put in the contacted and the holdout group (for evaluate).

A ledger written by revision 0001 is upgraded in place; the contacted group
of its past runs is filled from their planned touches of the run's own week
(the holdout of those runs was not recorded and stays unknown).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("campaign_id", sa.String(200), sa.ForeignKey("campaigns.campaign_id"), primary_key=True),
        sa.Column("week", sa.String(8), primary_key=True),
        sa.Column("customer_id", sa.String(100), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("grp", sa.String(10), nullable=False),
        sa.Column("segment_id", sa.String(100), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
    )
    op.execute(
        "INSERT INTO assignments (campaign_id, week, customer_id, run_id, grp, segment_id, priority_rank, "
        "week_start) SELECT p.campaign_id, p.week, p.customer_id, MIN(p.run_id), 'contacted', MIN(p.segment_id), "
        "MIN(p.priority_rank), MIN(p.week_start) FROM planned_touches p JOIN runs r ON r.run_id = p.run_id "
        "WHERE p.week_start = r.week_start GROUP BY p.campaign_id, p.week, p.customer_id"
    )


def downgrade() -> None:
    op.drop_table("assignments")
