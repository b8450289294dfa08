"""The contact ledger: campaigns, weekly runs, planned touches, assignments and outcomes.

An embedded SQLite file by default, or a PostgreSQL server by its SQLAlchemy URL (both
tested). :func:`open_ledger` creates the schema or upgrades an older ledger in
place (Alembic revisions in ``migrations/versions``), and refuses a ledger
written by a newer reactivate.

Transaction discipline: everything one run writes goes in one transaction
(:meth:`Ledger.record_run`), so a killed run leaves the ledger as it was. On
SQLite, writes take the database lock at ``BEGIN`` (``BEGIN IMMEDIATE``), so
two writers never interleave. Runs of one campaign are serialized by
:meth:`Ledger.lock`: a file lock beside the SQLite file, a session advisory
lock on PostgreSQL; both are released by the operating system or the server
when the holder dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event

from reactivate.errors import ConfigError, LockedError
from reactivate.loop.ledger.models import Assignment, Base, Campaign, Outcome, PlannedTouch, Run

__all__ = ["HEAD", "Ledger", "ledger_url", "open_ledger"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: the schema revision this version of reactivate writes
HEAD = "0003"
#: columns of the contact history handed to the plan (the contacts table of the data contract)
HISTORY_COLUMNS = ["customer_id", "date", "channel", "campaign", "outcome"]
PLANNED_COLUMNS = ["customer_id", "segment_id", "wave", "week_start", "channel", "step", "rm_id", "theme",
                   "kind", "priority_rank"]


def ledger_url(value: str | Path, base: Path | None = None) -> str:
    """An SQLAlchemy URL from a URL or a file path (relative paths resolved against ``base``)."""
    text = str(value)
    if "://" in text:
        return text
    p = Path(text)
    if base is not None and not p.is_absolute():
        p = base / p
    return f"sqlite:///{p}"


def outputs_root(out: str | None, base: Path, week: str | None = None) -> Path:
    """The campaign's outputs root: ``[inputs] out`` (default ``runs``) with ``{week}`` filled in,
    relative to the campaign file's folder ``base``."""
    value = out or "runs"
    if "{week}" in value:
        if week is None:
            raise ConfigError(f"[inputs] out = {value!r} depends on the week; set [ledger] url (or pass --ledger) "
                              "so that commands without --week find the ledger")
        value = value.replace("{week}", week)
    p = Path(value)
    return p if p.is_absolute() else base / p


def ledger_location(ledger_setting: str | None, out: str | None, base: Path, *, override: str | Path | None = None,
                    root: Path | None = None, week: str | None = None) -> str:
    """Where a campaign's ledger is, as an SQLAlchemy URL: the one rule for every command.

    ``override`` (``--ledger``) first; else ``[ledger] url`` (a URL, or a path relative to the campaign
    file's folder ``base``); else ``ledger.sqlite`` in the outputs root (``root`` when the caller has
    one, else :func:`outputs_root` of ``[inputs] out``).
    """
    if override:
        return ledger_url(override)
    if ledger_setting:
        return ledger_url(ledger_setting, base)
    return ledger_url((root if root is not None else outputs_root(out, base, week)) / "ledger.sqlite")


def _sqlite_transactions(engine: sa.Engine) -> None:
    """Real transactions on SQLite, as SQLAlchemy's SQLite notes recommend: the driver's own implicit
    BEGIN is turned off and SQLAlchemy emits BEGIN itself -- BEGIN IMMEDIATE for the ledger's write
    transactions (the write lock is taken at once, so a second writer waits up to busy_timeout
    instead of failing half-way), a plain BEGIN for reads (they never wait for a writer's lock)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("ledger_write") else "BEGIN")


class Ledger:
    """A connection to a ledger. Use :func:`open_ledger` (it migrates first)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = sa.create_engine(url)
        self.dialect = self.engine.dialect.name
        self._made: list[Path] = []  # a SQLite file and folders this connection made (see discard_if_new)
        if self.dialect == "sqlite":
            _sqlite_transactions(self.engine)
            db = self.engine.url.database
            if db and db != ":memory:":
                folder = Path(db).parent
                if not Path(db).exists():
                    self._made = [Path(db), *reversed([p for p in (folder, *folder.parents) if not p.exists()])]
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:  # a file where the folder should be, no permission...
                    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
                    why = f"{blocker} is a file" if blocker else (exc.strerror or type(exc).__name__)
                    raise ConfigError(f"ledger {db}: cannot create its folder ({why})") from None
                if Path(db).is_dir():
                    raise ConfigError(f"ledger {db}: is a folder, not a SQLite file")

    def __repr__(self) -> str:
        return f"Ledger({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self.engine.dispose()

    def discard_if_new(self) -> None:
        """After a failed first run: remove the SQLite file (its journal and lock files) and the folders
        that opening it created, so that a run that fails leaves nothing behind. A ledger that existed
        before is never touched."""
        if not self._made:
            return
        self.engine.dispose()
        db = self._made[0]
        for p in [db, *db.parent.glob(f"{db.name}-journal"), *db.parent.glob(f"{db.name}-wal"),
                  *db.parent.glob(f"{db.name}-shm"), *db.parent.glob(f"{db.name}.*.lock")]:
            p.unlink(missing_ok=True)
        for folder in self._made[:0:-1]:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()

    # ------------------------------------------------------------------ schema

    def revision(self) -> str | None:
        """The schema revision of the database (None for an empty one)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self, target: str = "head") -> None:
        """Create the schema or upgrade it in place to ``target``, in one transaction."""
        from alembic.config import Config
        from alembic.runtime.environment import EnvironmentContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        script = ScriptDirectory.from_config(cfg)
        known = {s.revision for s in script.walk_revisions()}
        current = self.revision()
        if current == target or (target == "head" and current == HEAD):
            return
        if current is not None and current not in known:
            raise ConfigError(
                f"ledger {self!r}: schema revision {current!r} is newer than this reactivate knows "
                f"(up to {HEAD!r}); upgrade reactivate"
            )

        def steps(rev, _context):
            return script._upgrade_revs(target, rev)

        with self.begin() as conn:
            env = EnvironmentContext(cfg, script, fn=steps, destination_rev=target)
            with env:
                env.configure(connection=conn, target_metadata=Base.metadata, transactional_ddl=True)
                env.run_migrations()

    def migrate(self) -> None:
        """:meth:`upgrade` to head, with database errors as one ConfigError line."""
        try:
            self.upgrade()
        except sa.exc.SQLAlchemyError as exc:
            self.close()
            raise ConfigError(f"ledger {self!r}: cannot open or upgrade it ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200]})") from None

    # ------------------------------------------------------------------ lock

    @contextmanager
    def lock(self, campaign_id: str):
        """Hold the campaign's run lock; :class:`LockedError` (exit 3) at once when another run has it."""
        key = hashlib.sha256(f"reactivate:{campaign_id}".encode()).digest()
        if self.dialect == "postgresql":
            k = int.from_bytes(key[:8], "big", signed=True)
            conn = self.engine.connect()
            try:
                got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": k}).scalar()
                conn.commit()
                if not got:
                    raise LockedError(_locked_message(campaign_id))
                try:
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": k})
                    conn.commit()
            finally:
                conn.close()
            return
        if self.dialect != "sqlite":
            raise ConfigError(f"ledger {self!r}: {self.dialect} is not supported (use SQLite or PostgreSQL)")
        from filelock import FileLock, Timeout

        db = self.engine.url.database
        if not db or db == ":memory:":
            yield
            return
        lock = FileLock(f"{db}.{key.hex()[:16]}.lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise LockedError(_locked_message(campaign_id)) from None
        try:
            yield
        finally:
            lock.release()

    # ------------------------------------------------------------------ reading

    def read(self, stmt) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(stmt, conn)

    def runs(self, campaign_id: str) -> pd.DataFrame:
        t = Run.__table__
        return self.read(sa.select(t).where(t.c.campaign_id == campaign_id).order_by(t.c.week, t.c.started_at))

    def planned(self, campaign_id: str, week: str | None = None) -> pd.DataFrame:
        """Planned touches of a campaign (of one run week, or all), in a stable order."""
        t = PlannedTouch.__table__
        q = sa.select(t.c.week, t.c.run_id, *[t.c[c] for c in PLANNED_COLUMNS]).where(t.c.campaign_id == campaign_id)
        if week is not None:
            q = q.where(t.c.week == week)
        df = self.read(q.order_by(t.c.week, t.c.week_start, t.c.priority_rank, t.c.customer_id, t.c.step))
        df["week_start"] = pd.to_datetime(df["week_start"])
        return df

    def issued(self, campaign_id: str | None, before: dt.date | None = None) -> pd.DataFrame:
        """The touches handed to operations (of one campaign, or of all with None): each run's touches
        for its own week (the later weeks of a run are a forecast, replaced by the next run)."""
        t, r = PlannedTouch.__table__, Run.__table__
        q = (sa.select(t.c.campaign_id, t.c.week, *[t.c[c] for c in PLANNED_COLUMNS])
             .join(r, r.c.run_id == t.c.run_id)
             .where(t.c.week_start == r.c.week_start, r.c.status == "ok"))
        if campaign_id is not None:
            q = q.where(t.c.campaign_id == campaign_id)
        if before is not None:
            q = q.where(t.c.week_start < before)
        df = self.read(q.order_by(t.c.week_start, t.c.priority_rank, t.c.customer_id, t.c.step))
        df["week_start"] = pd.to_datetime(df["week_start"])
        return df

    def outcomes(self, campaign_id: str | None = None, before: dt.date | None = None,
                 notes: bool = False) -> pd.DataFrame:
        """Recorded outcomes (of one campaign, or all), by date; with ``notes``, the RMs' notes too."""
        t = Outcome.__table__
        q = sa.select(t.c.campaign_id, t.c.customer_id, t.c.date, t.c.channel, t.c.outcome, t.c.planned_week,
                      *([t.c.note] if notes else []))
        if campaign_id is not None:
            q = q.where(t.c.campaign_id == campaign_id)
        if before is not None:
            q = q.where(t.c.date < before)
        df = self.read(q.order_by(t.c.date, t.c.customer_id, t.c.channel, t.c.outcome))
        df["date"] = pd.to_datetime(df["date"])
        return df

    def run_touches(self, run_ids, week_starts=None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The runs ``run_ids`` (campaign, week, week start, status) and the touches they planned that
        are still in the ledger (run id, RM, customer, step, channel, week start; only those of
        ``week_starts`` when given): what a returned list of those runs is checked against. A run
        replaced by a later run of its week has no touches left."""
        ids = sorted({str(r) for r in run_ids})
        r, t = Run.__table__, PlannedTouch.__table__
        runs = self.read(sa.select(r.c.run_id, r.c.campaign_id, r.c.week, r.c.week_start, r.c.status)
                         .where(r.c.run_id.in_(ids)).order_by(r.c.run_id))
        q = sa.select(t.c.run_id, t.c.rm_id, t.c.customer_id, t.c.step, t.c.channel, t.c.week_start)
        q = q.where(t.c.run_id.in_(ids))
        if week_starts is not None:
            q = q.where(t.c.week_start.in_(sorted(set(week_starts))))
        touches = self.read(q.order_by(t.c.run_id, t.c.week_start, t.c.rm_id, t.c.customer_id, t.c.step))
        runs["week_start"] = pd.to_datetime(runs["week_start"])
        touches["week_start"] = pd.to_datetime(touches["week_start"])
        return runs, touches

    def assignments(self, campaign_id: str) -> pd.DataFrame:
        t = Assignment.__table__
        df = self.read(sa.select(t).where(t.c.campaign_id == campaign_id)
                       .order_by(t.c.week, t.c.customer_id))
        df["week_start"] = pd.to_datetime(df["week_start"])
        return df

    def history(self, before: dt.date) -> pd.DataFrame:
        """The contact history this ledger adds to the next plan, in the contacts-table layout.

        Every outcome recorded before ``before``, plus each touch issued before ``before`` that no
        recorded outcome delivers -- of every campaign in this ledger (an opt-out or a complaint
        holds everywhere, and caps count every contact): an undelivered or not yet reported touch
        still counts against caps and gaps (if it was made after all, contacting the customer again
        too soon would break the policy). It is dated at the start of its week.
        """
        out = self.outcomes(None, before)
        issued = self.issued(None, before)
        keys = ["campaign_id", "week", "customer_id", "channel"]
        delivered = out.loc[out["planned_week"] != "", ["campaign_id", "planned_week", "customer_id", "channel"]]
        delivered = delivered.rename(columns={"planned_week": "week"}).drop_duplicates()
        m = issued[keys].merge(delivered, on=keys, how="left", indicator=True)
        pending = issued[(m["_merge"] == "left_only").to_numpy()]
        hist = pd.concat([
            pd.DataFrame({"customer_id": out["customer_id"], "date": out["date"], "channel": out["channel"],
                          "campaign": out["campaign_id"], "outcome": out["outcome"]}),
            pd.DataFrame({"customer_id": pending["customer_id"], "date": pending["week_start"],
                          "channel": pending["channel"], "campaign": pending["campaign_id"], "outcome": None}),
        ], ignore_index=True)
        hist = hist.sort_values(["date", "customer_id", "channel"], kind="stable").reset_index(drop=True)
        return hist[HISTORY_COLUMNS]

    # ------------------------------------------------------------------ writing

    def ensure_campaign(self, conn, campaign_id: str, name: str, now: dt.datetime) -> None:
        t = Campaign.__table__
        if conn.execute(sa.select(t.c.campaign_id).where(t.c.campaign_id == campaign_id)).first() is None:
            conn.execute(sa.insert(t).values(campaign_id=campaign_id, name=name, created_at=now))

    @contextmanager
    def begin(self):
        """One write transaction (committed on success, rolled back on any error or kill)."""
        with self.engine.connect() as conn:
            conn.execution_options(ledger_write=True)
            with conn.begin():
                yield conn

    def start_run(self, run: dict) -> None:
        """Note a run as ``started`` (its own small transaction: a killed run is visible as such)."""
        t = Run.__table__
        with self.begin() as conn:
            self.ensure_campaign(conn, run["campaign_id"], run.get("campaign_name", ""), run["started_at"])
            if conn.execute(sa.select(t.c.run_id).where(t.c.run_id == run["run_id"])).first() is not None:
                return  # the same run again (same inputs): its row stays as it is until this run commits
            conn.execute(sa.insert(t).values(**{k: run[k] for k in (
                "run_id", "campaign_id", "week", "week_start", "config_sha256", "inputs_sha256", "version",
                "started_at")}, status="started", finished_at=None, touches=0))

    def write_run(self, conn, run: dict, touches: pd.DataFrame, assignments: pd.DataFrame) -> None:
        """Within ``conn``'s transaction: replace the week's planned touches and assignments and
        mark the run ``ok``. Reruns of a week replace, never duplicate."""
        camp, week = run["campaign_id"], run["week"]
        pt, at, rt = PlannedTouch.__table__, Assignment.__table__, Run.__table__
        conn.execute(sa.delete(pt).where(pt.c.campaign_id == camp, pt.c.week == week))
        conn.execute(sa.delete(at).where(at.c.campaign_id == camp, at.c.week == week))
        # superseded runs of the same week keep their row (the audit trail) but are marked so
        conn.execute(sa.update(rt).where(rt.c.campaign_id == camp, rt.c.week == week, rt.c.run_id != run["run_id"],
                                         rt.c.status == "ok").values(status="replaced"))
        if len(touches):
            rows = touches.assign(campaign_id=camp, week=week, run_id=run["run_id"])
            _insert(conn, pt, rows)
        if len(assignments):
            rows = assignments.assign(campaign_id=camp, week=week, run_id=run["run_id"])
            _insert(conn, at, rows)
        conn.execute(sa.update(rt).where(rt.c.run_id == run["run_id"]).values(
            status="ok", finished_at=run["finished_at"], touches=len(touches)))

    def outcome_keys(self, conn, campaign_id: str, customer_ids) -> pd.DataFrame:
        """Within ``conn``'s transaction: the keys (customer_id, date, channel, outcome) of the outcomes
        of ``campaign_id`` already recorded for ``customer_ids``."""
        t = Outcome.__table__
        ids = sorted({str(c) for c in customer_ids})
        cols = ["customer_id", "date", "channel", "outcome"]
        parts = [pd.DataFrame(conn.execute(sa.select(*[t.c[c] for c in cols]).where(
            t.c.campaign_id == campaign_id, t.c.customer_id.in_(ids[i:i + 5000]))).all(), columns=cols)
            for i in range(0, len(ids), 5000)]  # bounded IN lists (SQLite's limit of bound parameters)
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
        out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
        return out

    def add_outcomes(self, conn, rows: pd.DataFrame) -> int:
        """Insert outcome rows, skipping those already recorded; returns how many were new."""
        if len(rows) == 0:
            return 0
        t = Outcome.__table__
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - other servers: plain insert after dropping the known rows
            insert = None
        before = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        records = _records(rows, t)
        if insert is not None:
            conn.execute(insert(t).on_conflict_do_nothing(), records)
        else:  # pragma: no cover
            conn.execute(sa.insert(t), records)
        return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() - before


def _records(df: pd.DataFrame, table: sa.Table) -> list[dict]:
    cols = [c.name for c in table.columns if c.name in df.columns]
    out = df[cols].copy()
    for c in cols:
        kind = table.c[c].type
        if isinstance(kind, sa.Date):
            out[c] = pd.to_datetime(out[c]).dt.date
        elif isinstance(kind, sa.Integer):
            out[c] = out[c].astype("int64").astype(object)
        elif isinstance(kind, sa.String) and table.c[c].nullable:  # None stays NULL, not the text 'None'
            missing = out[c].isna().to_numpy()
            out[c] = out[c].astype(str).astype(object).where(~missing, None)
        elif isinstance(kind, sa.String):
            out[c] = out[c].astype(str)
    return out.to_dict("records")


def _insert(conn, table: sa.Table, df: pd.DataFrame, chunk: int = 50_000) -> None:
    records = _records(df, table)
    for i in range(0, len(records), chunk):  # executemany in chunks bounds the driver's memory
        conn.execute(sa.insert(table), records[i:i + chunk])


def _locked_message(campaign_id: str) -> str:
    return (f"campaign {campaign_id!r} is locked: another reactivate run for it is in progress "
            "(nothing was changed; run again when it has finished)")


def open_ledger(url: str | Path, base: Path | None = None, migrate: bool = True) -> Ledger:
    """Open the ledger at ``url`` (an SQLAlchemy URL or a SQLite file path) and, unless
    ``migrate=False`` (then call :meth:`Ledger.migrate` under the campaign lock), create or upgrade it.

    Raises
    ------
    ConfigError
        The ledger cannot be opened, or its schema is newer than this version knows.
    """
    led = Ledger(ledger_url(url, base))
    if migrate:
        led.migrate()
    return led
