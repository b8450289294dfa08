"""The ledger: schema and migrations, the run lock, history, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest
import sqlalchemy as sa

from reactivate.errors import ConfigError, LockedError
from reactivate.loop.ledger import HEAD, Ledger, ledger_url, open_ledger
from reactivate.loop.ledger.models import Base

PG_URL = os.environ.get("REACTIVATE_TEST_POSTGRES_URL")
START = dt.date(2026, 12, 7)


def _meta(run_id="r1", week="2026-W50", start=START):
    return {"run_id": run_id, "campaign_id": "camp", "week": week, "week_start": start, "config_sha256": "c",
            "inputs_sha256": "i", "version": "t", "started_at": dt.datetime(2026, 12, 6, 3),
            "finished_at": dt.datetime(2026, 12, 6, 4)}


def _touches(ids, start=START, channel="sms"):
    return pd.DataFrame({"customer_id": ids, "segment_id": "S1", "wave": 1, "week_start": pd.Timestamp(start),
                         "channel": channel, "step": 1, "rm_id": "RM1", "theme": "welcome_back", "kind": "plan",
                         "priority_rank": range(1, len(ids) + 1)})


def _write(led, meta, touches, holdout=()):
    led.start_run(meta)
    assign = pd.concat([
        touches[["customer_id", "segment_id", "priority_rank"]].assign(grp="contacted"),
        pd.DataFrame({"customer_id": list(holdout), "segment_id": "S1", "priority_rank": 0, "grp": "holdout"}),
    ]).assign(week_start=pd.Timestamp(meta["week_start"]))
    with led.begin() as conn:
        led.write_run(conn, meta, touches, assign)


def exercise(led: Ledger) -> None:
    """The same checks on any database."""
    assert led.revision() == HEAD
    _write(led, _meta(), _touches(["A", "B", "C"]), holdout=["H"])
    _write(led, _meta(), _touches(["A", "B", "C"]), holdout=["H"])  # the same week again: replaced
    assert len(led.planned("camp")) == 3 and len(led.assignments("camp")) == 4
    # a later forecast week of the run is not "issued"; only the run's own week is
    later = pd.concat([_touches(["A", "B"]), _touches(["D"], start=START + dt.timedelta(days=7))])
    _write(led, _meta("r2"), later)
    assert set(led.issued("camp")["customer_id"]) == {"A", "B"}
    runs = led.runs("camp").set_index("run_id")["status"]
    assert runs.to_dict() == {"r1": "replaced", "r2": "ok"}
    rows = pd.DataFrame({"customer_id": ["A", "B"], "date": pd.to_datetime(["2026-12-08", "2026-12-09"]),
                         "channel": ["sms", "sms"], "outcome": ["responded", "opted_out"], "campaign_id": "camp",
                         "planned_week": "2026-W50", "source_sha256": "s",
                         "recorded_at": dt.datetime(2026, 12, 10)})
    with led.begin() as conn:
        assert led.add_outcomes(conn, rows) == 2
    with led.begin() as conn:
        assert led.add_outcomes(conn, rows) == 0  # recorded once only
    h = led.history(before=START + dt.timedelta(days=7))
    # A and B have outcomes in the week; the issued touch without one stays as a pending contact
    assert list(h.columns) == ["customer_id", "date", "channel", "campaign", "outcome"]
    assert sorted(h["customer_id"]) == ["A", "B"] and set(h["outcome"]) == {"responded", "opted_out"}
    assert len(led.history(before=START)) == 0
    # the lock: a second holder is refused at once
    other = Ledger(led.url)
    with led.lock("camp"):
        with pytest.raises(LockedError, match="campaign 'camp' is locked: another reactivate run"):
            with other.lock("camp"):
                pass
        with other.lock("another campaign"):
            pass
    with other.lock("camp"):  # released
        pass
    other.close()


def test_sqlite_ledger(tmp_path):
    led = open_ledger(tmp_path / "l.sqlite")
    exercise(led)
    led.close()


@pytest.mark.skipif(not PG_URL and not os.environ.get("CI"), reason="REACTIVATE_TEST_POSTGRES_URL not set")
def test_postgres_ledger():
    assert PG_URL, "CI must run the PostgreSQL tests: .ci/run starts a server and sets REACTIVATE_TEST_POSTGRES_URL"
    eng = sa.create_engine(PG_URL)
    with eng.begin() as conn:  # a clean database
        Base.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    eng.dispose()
    led = open_ledger(PG_URL)
    exercise(led)
    led.close()


def test_models_match_the_migrations(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    led = open_ledger(tmp_path / "l.sqlite")
    with led.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    led.close()
    assert diff == []


def test_older_ledger_is_upgraded_in_place(tmp_path):
    led = Ledger(ledger_url(tmp_path / "old.sqlite"))
    led.upgrade("0001")
    assert led.revision() == "0001"
    with led.begin() as conn:
        conn.execute(sa.text("INSERT INTO campaigns VALUES ('camp', 'c', '2026-12-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO runs VALUES ('r1', 'camp', '2026-W50', '2026-12-07', 'c', 'i', 't', 'ok', "
                             "'2026-12-06 00:00:00', '2026-12-06 00:00:00', 2)"))
        for cid, ws in (("A", "2026-12-07"), ("B", "2026-12-14")):
            conn.execute(sa.text("INSERT INTO planned_touches (campaign_id, week, run_id, customer_id, segment_id, "
                                 "wave, week_start, channel, step, rm_id, theme, kind, priority_rank) VALUES "
                                 f"('camp', '2026-W50', 'r1', '{cid}', 'S1', 1, '{ws}', 'sms', 1, 'RM1', 'w', 'plan', 1)"))
    led.close()
    led = open_ledger(tmp_path / "old.sqlite")
    assert led.revision() == HEAD
    assert len(led.planned("camp")) == 2  # nothing lost
    a = led.assignments("camp")
    assert list(a["customer_id"]) == ["A"] and list(a["grp"]) == ["contacted"]  # filled from the run's own week
    led.close()


def test_ledger_of_0002_gains_outcome_notes(tmp_path):
    led = Ledger(ledger_url(tmp_path / "old.sqlite"))
    led.upgrade("0002")
    with led.begin() as conn:
        conn.execute(sa.text("INSERT INTO campaigns VALUES ('camp', 'c', '2026-12-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO outcomes (campaign_id, customer_id, date, channel, outcome, planned_week, "
                             "source_sha256, recorded_at) VALUES ('camp', 'A', '2026-12-08', 'sms', 'responded', "
                             "'2026-W50', 's', '2026-12-10 00:00:00')"))
    led.close()
    led = open_ledger(tmp_path / "old.sqlite")
    assert led.revision() == HEAD == "0003"
    old = led.outcomes("camp", notes=True)
    assert list(old["customer_id"]) == ["A"] and old["note"].isna().all()  # kept, without a note
    rows = pd.DataFrame({"customer_id": ["B", "C"], "date": pd.to_datetime(["2026-12-08", "2026-12-09"]),
                         "channel": "sms", "outcome": "declined", "campaign_id": "camp", "planned_week": "2026-W50",
                         "source_sha256": "s", "recorded_at": dt.datetime(2026, 12, 10), "note": ["call in May", None]})
    with led.begin() as conn:
        assert led.add_outcomes(conn, rows) == 2
    got = led.outcomes("camp", notes=True).set_index("customer_id")["note"]
    assert got["B"] == "call in May" and pd.isna(got["C"])  # NULL, not the text "None"
    assert "note" not in led.outcomes("camp").columns
    led.close()


def test_newer_ledger_is_refused(tmp_path):
    led = open_ledger(tmp_path / "l.sqlite")
    with led.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    led.close()
    with pytest.raises(ConfigError, match=r"schema revision '9999' is newer than this reactivate knows \(up to '0003'\)"):
        open_ledger(tmp_path / "l.sqlite")


def test_ledger_url():
    assert ledger_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert ledger_url("runs/l.sqlite", base=__import__("pathlib").Path("/srv")) == "sqlite:////srv/runs/l.sqlite"


@pytest.mark.skipif(not PG_URL and not os.environ.get("CI"), reason="REACTIVATE_TEST_POSTGRES_URL not set")
def test_weekly_run_on_postgres(demo_book, tmp_path):
    from reactivate.jobs.weekly import run_week
    from tests.test_batch import W1, campaign_file

    assert PG_URL
    eng = sa.create_engine(PG_URL)
    with eng.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    eng.dispose()
    camp = campaign_file(tmp_path, demo_book)
    res = run_week(camp, W1, ledger=PG_URL)
    again = run_week(camp, W1, ledger=PG_URL)
    led = open_ledger(PG_URL)
    planned = led.planned("wake-weekly")
    led.close()
    assert res.run_id == again.run_id
    assert len(planned) == res.summary["plan"]["touches"] + res.summary["loop"]["followups"]


def test_history_counts_every_campaign_and_each_touch_once(tmp_path):
    led = open_ledger(tmp_path / "l.sqlite")
    _write(led, _meta(), _touches(["A", "B"]))
    other = {**_meta("o1"), "campaign_id": "other"}
    led.start_run(other)
    with led.begin() as conn:
        led.write_run(conn, other, _touches(["C"], channel="phone"), pd.DataFrame())
    # A's touch reported 10 days after its week started (still that touch); B's never reported
    rows = pd.DataFrame({"customer_id": ["A"], "date": pd.to_datetime(["2026-12-17"]), "channel": ["sms"],
                         "outcome": ["declined"], "campaign_id": "camp", "planned_week": "2026-W50",
                         "source_sha256": "s", "recorded_at": dt.datetime(2026, 12, 18)})
    with led.begin() as conn:
        led.add_outcomes(conn, rows)
    h = led.history(before=dt.date(2026, 12, 21))
    led.close()
    got = h.assign(date=h["date"].dt.strftime("%Y-%m-%d")).to_dict("records")
    assert got == [
        {"customer_id": "B", "date": "2026-12-07", "channel": "sms", "campaign": "camp", "outcome": None},
        {"customer_id": "C", "date": "2026-12-07", "channel": "phone", "campaign": "other", "outcome": None},
        {"customer_id": "A", "date": "2026-12-17", "channel": "sms", "campaign": "camp", "outcome": "declined"},
    ]


def test_concurrent_writers_wait_for_each_other_and_lose_nothing(tmp_path):
    import threading
    import time

    open_ledger(tmp_path / "l.sqlite").close()
    inside = threading.Event()
    errors = []

    def slow_writer():
        led = open_ledger(tmp_path / "l.sqlite")
        try:
            led.start_run(_meta("slow"))
            with led.begin() as conn:
                inside.set()
                time.sleep(0.5)  # holds the write lock
                led.write_run(conn, _meta("slow"), _touches(["A", "B"]), pd.DataFrame())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            led.close()

    t = threading.Thread(target=slow_writer)
    t.start()
    assert inside.wait(10)
    led = open_ledger(tmp_path / "l.sqlite")
    other = {**_meta("fast", week="2026-W51", start=dt.date(2026, 12, 14)), "campaign_id": "camp2"}
    led.start_run(other)  # waits for the slow writer's transaction, then writes
    with led.begin() as conn:
        led.write_run(conn, other, _touches(["C"], start=dt.date(2026, 12, 14)), pd.DataFrame())
    t.join()
    assert not errors
    assert len(led.planned("camp")) == 2 and len(led.planned("camp2")) == 1
    led.close()
