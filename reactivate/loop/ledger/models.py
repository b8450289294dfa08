"""The ledger's tables (SQLAlchemy 2.x declarative models).

The schema is created and upgraded only by the Alembic revisions in
``migrations/versions/``; these models describe the head revision for reading
and writing. A test checks the two agree.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Campaign(Base):
    """One row per campaign id (``[campaign] id`` of the spec)."""

    __tablename__ = "campaigns"
    campaign_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Run(Base):
    """One weekly run. The id is derived from campaign, week, config and inputs, so a rerun of the
    same week on the same inputs has the same id (and outputs); ``status`` is ``started`` until
    the run's ledger transaction commits (a killed run stays ``started``, with nothing else written)."""

    __tablename__ = "runs"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.campaign_id"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, 2026-W49
    week_start: Mapped[dt.date] = mapped_column(Date)
    config_sha256: Mapped[str] = mapped_column(String(64))
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    touches: Mapped[int] = mapped_column(Integer, default=0)


class PlannedTouch(Base):
    """Every touch a weekly run planned, for the run's week and the weeks after it.

    Only the touches of a run's own week are issued to operations; later weeks
    are the forecast, replaced by the next week's run."""

    __tablename__ = "planned_touches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.campaign_id"))
    week: Mapped[str] = mapped_column(String(8))  # the run's week
    run_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(100))
    segment_id: Mapped[str] = mapped_column(String(100))
    wave: Mapped[int] = mapped_column(Integer)
    week_start: Mapped[dt.date] = mapped_column(Date)  # the week the touch is planned for
    channel: Mapped[str] = mapped_column(String(20))
    step: Mapped[int] = mapped_column(Integer)
    rm_id: Mapped[str] = mapped_column(String(100))
    theme: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))  # plan | follow_up
    priority_rank: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_planned_campaign_week", "campaign_id", "week"),)


class Outcome(Base):
    """One delivered touch and what happened (imported by ``reactivate record``, from outcome files or
    the returned RM lists)."""

    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.campaign_id"))
    customer_id: Mapped[str] = mapped_column(String(100))
    date: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    #: the run week whose issued touch this delivers ("" when accepted unplanned)
    planned_week: Mapped[str] = mapped_column(String(8))
    source_sha256: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    #: revision 0003: the next step the RM noted beside the result in a returned list (free text, never logged)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id", "date", "channel", "outcome", name="uq_outcome"),
    )


class Assignment(Base):
    """Revision 0002: who each run put in the contacted and the holdout group, with segment and
    priority rank (what ``reactivate evaluate`` compares)."""

    __tablename__ = "assignments"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.campaign_id"), primary_key=True)
    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))
    grp: Mapped[str] = mapped_column(String(10))  # contacted | holdout
    segment_id: Mapped[str] = mapped_column(String(100))
    priority_rank: Mapped[int] = mapped_column(Integer)
    week_start: Mapped[dt.date] = mapped_column(Date)
