"""The first ledger schema: campaigns, runs, planned touches, outcomes.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("campaign_id", sa.String(200), sa.ForeignKey("campaigns.campaign_id"), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("config_sha256", sa.String(64), nullable=False),
        sa.Column("inputs_sha256", sa.String(64), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("touches", sa.Integer(), nullable=False),
    )
    op.create_table(
        "planned_touches",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.String(200), sa.ForeignKey("campaigns.campaign_id"), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("segment_id", sa.String(100), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("rm_id", sa.String(100), nullable=False),
        sa.Column("theme", sa.String(50), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
    )
    op.create_index("ix_planned_campaign_week", "planned_touches", ["campaign_id", "week"])
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.String(200), sa.ForeignKey("campaigns.campaign_id"), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("planned_week", sa.String(8), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("campaign_id", "customer_id", "date", "channel", "outcome", name="uq_outcome"),
    )


def downgrade() -> None:
    op.drop_table("outcomes")
    op.drop_index("ix_planned_campaign_week", table_name="planned_touches")
    op.drop_table("planned_touches")
    op.drop_table("runs")
    op.drop_table("campaigns")
