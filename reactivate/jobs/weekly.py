"""The weekly batch run: record, learn, plan, follow up, write, update the ledger.

:func:`run_week` does one campaign week unattended:

1. take the campaign's lock (another run of the same campaign → :class:`LockedError`, exit 3);
2. record the outcome files of ``[inputs] outcomes`` and the returned RM lists of ``[inputs] lists``
   (a row already recorded is skipped, so nothing is recorded twice);
3. read the ledger's contact history before the week (every recorded outcome, and every touch
   issued in an earlier week) and the outcome counts per segment × channel;
4. plan the week on the latest book with that history (caps, gaps, opt-outs, complaints and the
   calibration see it) and the learned channel fit (:mod:`reactivate.scoring.learn`);
5. **the loop's own rules** (:mod:`reactivate.planning.followups`), on top of the plan: customers
   who declined rest for ``followup.rest_days``, a customer never gets more than
   ``policy.max_touches`` planned touches in the campaign, and responders (``followup.after``) get
   a follow-up call by their own RM in the first week that RM has calls left after the plan
   (``followups.csv`` and ``followups/<week>/<rm>.csv``); those three groups are held back from
   the week's plan (one :func:`~reactivate.planning.plan.build_plan`), so the capacity they would
   have used goes to others (the holdout and the suppression are decided on everyone, so nobody
   leaves the holdout by resting);
6. write the outputs into ``<out>/<campaign>/<week>/`` (staged, swapped in whole) -- with the
   campaign's uplift so far (``uplift.csv``, as ``reactivate evaluate`` measures it) once a window has
   closed, so the week's report shows it -- and, in one ledger transaction, replace the week's planned
   touches and assignments.

The run id is a hash of the campaign, week, as-of date, resolved config, input fingerprints and the ledger
history read, so the same week run twice on the same data has the same id, outputs and ledger
rows. A run killed at any point leaves the previous outputs in place and the ledger as it was
(its runs row says ``started``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reactivate import __version__
from reactivate.config.campaign import FIRST_DATE, LAST_DATE, CampaignSpec, load_campaign
from reactivate.errors import ConfigError
from reactivate.jobs.pipeline import PlanRun, run_plan
from reactivate.loop.evaluate import evaluate_campaign
from reactivate.loop.ledger import ledger_location, ledger_url, open_ledger, outputs_root
from reactivate.loop.record import RecordResult, record_all, record_outcomes
from reactivate.outputs.files import check_out, csv_bytes, file_names, safe_name, sheet_csv_bytes
from reactivate.outputs.lists import ListContext, last_week_results
from reactivate.outputs.writer import write_run
from reactivate.planning.diagnosis import cannot_contact
from reactivate.planning.followups import (
    FOLLOW_UP,
    PLANNED,
    followup_candidates,
    held_back_reasons,
    schedule_followups,
    with_followups,
)
from reactivate.planning.plan import build_plan
from reactivate.planning.summary import plan_summary
from reactivate.schema import CHANNELS, OUTCOMES
from reactivate.scoring.learn import outcome_counts
from reactivate.scoring.timing import campaign_start

log = logging.getLogger("reactivate.jobs.weekly")

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass
class WeekResult:
    campaign_id: str
    week: str
    week_start: dt.date
    out: Path
    ledger: str
    run_id: str
    summary: dict
    recorded: list = field(default_factory=list)


@dataclass(frozen=True)
class WeekLoop:
    """What the loop's rules did this week (:func:`plan_week`)."""

    #: followups.csv (:data:`reactivate.planning.followups.FOLLOWUP_COLUMNS`)
    followups: pd.DataFrame
    #: follow-up candidates no week had room for
    followups_unscheduled: int
    #: targets held back from the plan: follow-up, resting, touch limit
    excluded: dict[str, int]


def parse_week(text: str) -> tuple[str, dt.date]:
    """``2026-W49`` → (``"2026-W49"``, the Monday of that ISO week).

    Raises
    ------
    ConfigError
    """
    m = WEEK_RE.match(text or "")
    try:
        monday = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1) if m else None
    except ValueError:
        monday = None
    if monday is None:
        raise ConfigError(f"--week={text!r} is not an ISO week like 2026-W49")
    if not FIRST_DATE <= monday <= LAST_DATE:
        raise ConfigError(f"--week={text!r} is outside {FIRST_DATE.year}-{LAST_DATE.year}")
    return text, monday


def week_of(day: dt.date) -> str:
    y, w, _ = day.isocalendar()
    return f"{y}-W{w:02d}"


def _checkpoint(stage: str) -> None:
    """Fault injection for the kill tests: REACTIVATE_PAUSE_AT=<stage> sleeps there (never set in
    production). Stages: ledger (the week's rows are written, uncommitted), commit (outputs staged)."""
    if os.environ.get("REACTIVATE_PAUSE_AT") == stage:
        log.info("paused", extra={"fields": {"event": "paused", "stage": stage}})
        time.sleep(float(os.environ.get("REACTIVATE_PAUSE_SECONDS", "60")))


def _check_loop_config(spec: CampaignSpec) -> None:
    problems = []
    f = spec.followup
    for o in f.after:
        if o not in OUTCOMES:
            problems.append(f"followup.after: unknown outcome {o!r} (known: {', '.join(OUTCOMES)})")
    if f.channel not in CHANNELS:
        problems.append(f"followup.channel={f.channel!r} is not a channel ({', '.join(CHANNELS)})")
    if f.within_days < 0 or f.rest_days < 0:
        problems.append("followup.within_days and followup.rest_days must be >= 0")
    if spec.learning.window_days < 1:
        problems.append("learning.window_days must be >= 1")
    if problems:
        raise ConfigError(f"{spec.source}: " + "; ".join(problems))


def resolve(spec: CampaignSpec, base: Path, value: str, week: str) -> Path | None:
    """An input path of ``[inputs]`` (None when not set), ``{week}`` filled in, relative to ``base``; a URI
    (``hdfs://``, ``s3a://``) or a catalog table (``table:db.name``), which the Spark engine reads, as it is."""
    if not value:
        return None
    p = Path(value.replace("{week}", week))
    if "://" in value or value.startswith("table:"):
        return p
    return p if p.is_absolute() else base / p


def week_start(spec: CampaignSpec, monday: dt.date) -> dt.date:
    """The campaign's first day in the ISO week starting on ``monday``: its ``campaign.week_start`` weekday.

    The spec's own ``start_date`` is ignored: the week sets the start.
    """
    unset = dataclasses.replace(spec, campaign=dataclasses.replace(spec.campaign, start_date=None))
    return campaign_start(unset, monday - dt.timedelta(days=1))  # the first week start after the Sunday before


def run_week(campaign: str | Path, week: str, *, ledger: str | None = None, out: str | Path | None = None,
             as_of: dt.date | None = None, inputs: dict[str, str | Path | None] | None = None,
             report_lang: str | None = "en", engine: str | None = None) -> WeekResult:
    """Run one week of a campaign (see the module doc). Nothing is written on bad input or config.

    Parameters
    ----------
    campaign : the campaign spec (TOML); its ``[inputs]`` name the files, relative to it.
    week : ISO week, ``2026-W49``; the plan starts on that week's campaign weekday.
    ledger : SQLite path or SQLAlchemy URL (default ``[ledger] url``, else ``<out>/ledger.sqlite``).
    out : outputs root (default ``[inputs] out``); the week's outputs go to ``<out>/<campaign>/<week>/``.
    as_of : the day the book was extracted (default: the day before the week starts).
    inputs : files that replace those of ``[inputs]`` (keys accounts, transactions, contacts,
        segments, segments_model; None values are ignored).
    report_lang : "en" or "zh": the week's HTML report (report.html, charts/) in that language; None: none.
    engine : what aggregates the transaction log (``duckdb`` or ``spark``), instead of the campaign's
        ``[engine] name``.

    Raises
    ------
    ConfigError, InputDataError (exit 2), LockedError, OutputError (exit 3)
    """
    campaign = Path(campaign)
    spec = load_campaign(campaign)
    if engine is not None:  # --engine: instead of the campaign's [engine] name
        spec = dataclasses.replace(spec, engine=dataclasses.replace(spec.engine, name=engine))
    _check_loop_config(spec)
    base = campaign.resolve().parent
    label, monday = parse_week(week)
    start = week_start(spec, monday)
    spec = dataclasses.replace(spec, campaign=dataclasses.replace(spec.campaign, start_date=start))
    as_of = as_of or start - dt.timedelta(days=1)
    if as_of >= start:
        raise ConfigError(f"--as-of={as_of.isoformat()} must be before the week starts ({start.isoformat()})")
    inp = spec.inputs
    root = Path(out) if out is not None else outputs_root(inp.out, base, label)
    camp = spec.campaign.id
    week_out = root / safe_name(camp) / label  # the campaign's id as a distinct, portable folder name
    url = ledger_location(spec.ledger.url, inp.out, base, override=ledger, root=root, week=label)
    paths = {k: resolve(spec, base, getattr(inp, k), label)
             for k in ("accounts", "transactions", "contacts", "segments", "segments_model")}
    for k, v in (inputs or {}).items():
        if k not in paths:
            raise ConfigError(f"unknown input {k!r} (known: {', '.join(paths)})")
        if v is not None:
            paths[k] = Path(v)
    if paths["accounts"] is None and paths["transactions"] is None:
        raise ConfigError(f"{spec.source}: [inputs] names no accounts nor transactions file")
    option = "--out" if out is not None else "[inputs] out"
    check_out(week_out, week_inputs(spec, campaign, base, label, paths, {**(inputs or {}), "ledger": ledger}, url),
              option,
              f"the week's outputs folder {week_out} (under {option} {root})")
    fields = {"campaign": camp, "week": label}
    _event("start", **fields, week_start=start.isoformat(), as_of=as_of.isoformat())

    led = open_ledger(url, migrate=False)
    try:
        with led.lock(camp):  # before anything touches the database: a locked run waits for nothing
            led.migrate()
            return _locked_run(led, spec, base, label, start, as_of, paths, week_out, fields, report_lang)
    except BaseException:
        led.discard_if_new()  # a first run that fails leaves no ledger behind
        raise
    finally:
        led.close()


def plan_recorded(*, as_of: dt.date, ledger: str | Path, out: str | Path, campaign=None,
                  accounts=None, transactions=None, contacts=None, segments=None, segments_model=None,
                  report_lang: str | None = "en") -> WeekResult:
    """``reactivate plan --ledger``: a plan that reads the ledger's history and records its first week.

    The same as the weekly run (:func:`run_week`) for the campaign's first week
    after ``as_of``, with the files given here and the outputs written to ``out``
    itself: earlier touches and outcomes count for caps, gaps, opt-outs and
    learning; the week's touches and the holdout are recorded under a run id
    and the config fingerprint; rerunning the same week replaces them.

    Raises
    ------
    ConfigError, InputDataError (exit 2), LockedError, OutputError (exit 3)
    """
    spec = campaign if isinstance(campaign, CampaignSpec) else load_campaign(campaign)
    _check_loop_config(spec)
    start = campaign_start(spec, as_of)
    spec = dataclasses.replace(spec, campaign=dataclasses.replace(spec.campaign, start_date=start))
    label = week_of(start)
    paths = {"accounts": accounts, "transactions": transactions, "contacts": contacts, "segments": segments,
             "segments_model": segments_model}
    check_out(out, {**spec_inputs(spec, None if isinstance(campaign, CampaignSpec) else campaign),
                    **{f"--{k.replace('_', '-')}": v for k, v in paths.items()}, "--ledger": ledger_file(ledger_url(ledger))})
    camp = spec.campaign.id
    fields = {"campaign": camp, "week": label}
    led = open_ledger(ledger_url(ledger), migrate=False)
    try:
        with led.lock(camp):
            led.migrate()
            return _locked_run(led, spec, Path.cwd(), label, start, as_of, paths, Path(out), fields, report_lang)
    except BaseException:
        led.discard_if_new()
        raise
    finally:
        led.close()


def _locked_run(led, spec, base, label, start, as_of, paths, week_out, fields, report_lang=None) -> WeekResult:
    """The weekly run (:func:`run_week`, :func:`plan_recorded`) once the campaign's lock is held."""
    camp = spec.campaign.id
    t0 = time.perf_counter()
    recorded = _record_outcome_files(led, spec, base, label, as_of, fields)
    history = led.history(before=start)
    issued = led.issued(camp, before=start)
    outcomes = led.outcomes(None, before=start)
    learned = outcome_counts(outcomes[outcomes["campaign_id"] == camp], issued)
    _event("history", **fields, touches=len(history), outcomes=len(outcomes), learned_trials=int(learned["trials"].sum()))

    run = run_plan(as_of=as_of, accounts=paths["accounts"], transactions=paths["transactions"],
                   contacts=paths["contacts"], campaign=spec, segments=paths["segments"],
                   segments_model=paths["segments_model"], plan=False, history=history,
                   learned=learned if spec.learning.method != "off" else None)
    run, loop = plan_week(run, issued, outcomes, start)
    _event("planned", **fields, touches=len(run.result.plan), followups=len(loop.followups),
           excluded=loop.excluded)
    run = _with_week_summary(run, loop, recorded, len(history))
    meta = _run_meta(run, label, start, as_of, history)
    run = dataclasses.replace(run, run={**run.run, "ledger": {
        "run_id": meta["run_id"], "week": label, "week_start": start.isoformat(),
        "url": led.engine.url.render_as_string(hide_password=True), "schema_revision": led.revision()}})
    led.start_run(meta)
    touches, assignments = ledger_rows(run, loop.followups, start)
    extra = {**followup_files(loop.followups), **uplift_files(led, spec, run, as_of)}
    context = ListContext(meta["run_id"], label, loop.followups, last_week_results(issued, outcomes, camp, start))
    with led.begin() as conn:
        led.write_run(conn, {**meta, "finished_at": _now()}, touches, assignments)
        _checkpoint("ledger")
        run = write_run(run, week_out, extra=extra, before_commit=lambda: _checkpoint("commit"),
                        lang=report_lang or "en", report_lang=report_lang, context=context)
    _event("done", **fields, run_id=meta["run_id"], out=str(week_out), seconds=round(time.perf_counter() - t0, 2))
    return WeekResult(camp, label, start, week_out, led.url, meta["run_id"], run.summary, recorded)


def _record_outcome_files(led, spec: CampaignSpec, base: Path, label: str, as_of: dt.date,
                          fields: dict) -> list[RecordResult]:
    """Record every outcome file of ``[inputs] outcomes`` (glob patterns expanded, in name order), then
    the returned RM lists of ``[inputs] lists``: all or nothing (a list with a problem fails the run,
    with every problem listed, before anything of the lists is recorded)."""
    recorded = []
    for pattern in spec.inputs.outcomes:
        full = str(resolve(spec, base, pattern, label))
        files = sorted(glob.glob(full)) if any(ch in full for ch in "*?[") else [full]
        for f in files:
            res = record_outcomes(led, f, spec, as_of=max(dt.date.today(), as_of))
            recorded.append(res)
            _event("recorded", **fields, file=Path(f).name, rows=res.rows, new=res.new, already=res.already,
                   rejected=res.rejected)
    lists = returned_lists(spec, base, label)
    if lists:
        results = record_all(led, [], spec, lists=lists, as_of=max(dt.date.today(), as_of), strict=True)
        read = [r for r in results if not r.skipped]
        _event("lists", **fields, files=len(read), filled=sum(1 for r in read if r.rows),
               rows=sum(r.rows for r in read), new=sum(r.new for r in read), already=sum(r.already for r in read),
               skipped=len(results) - len(read))
        recorded.extend(r for r in read if r.rows)
    return recorded


def returned_lists(spec: CampaignSpec, base: Path, label: str) -> list[Path]:
    """The files and folders of ``[inputs] lists`` that exist (glob patterns expanded, in name order;
    a folder not there yet holds no returned lists)."""
    found = []
    for pattern in spec.inputs.lists:
        full = str(resolve(spec, base, pattern, label))
        found += sorted(glob.glob(full)) if any(ch in full for ch in "*?[") else [full]
    return [Path(p) for p in found if Path(p).exists()]


def plan_week(run: PlanRun, issued: pd.DataFrame, outcomes: pd.DataFrame, start: dt.date) -> tuple[PlanRun, WeekLoop]:
    """Plan the week under the loop's rules (:mod:`reactivate.planning.followups`).

    The follow-up candidates, resting customers and those at the touch limit are held back from the
    week's plan (one :func:`~reactivate.planning.plan.build_plan`); the follow-ups then go into the
    RM calls it leaves, and count in its capacity table.

    Returns
    -------
    The run with the week's plan as its ``result``, and what the loop's rules did.
    """
    spec = run.spec
    own = outcomes[outcomes["campaign_id"] == spec.campaign.id]
    candidates = followup_candidates(run.customers, run.scores, spec, issued, own, start)
    held_back, excluded = held_back_reasons(run.scores.index, candidates, issued, outcomes, spec, start)
    result = build_plan(run.scores, run.fit, spec, run.as_of, held_back=held_back)
    followups, not_placed = schedule_followups(candidates, run.customers["rm_id"], result, spec)
    result = with_followups(result, followups, spec)
    return dataclasses.replace(run, result=result), WeekLoop(followups, not_placed, excluded)


def _with_week_summary(run: PlanRun, loop: WeekLoop, recorded: list[RecordResult], history_touches: int) -> PlanRun:
    """The run with summary.json's ``plan``, ``capacity_use`` and ``loop``."""
    # what was imported, without the new/already counts: a rerun of the week writes the same bytes
    files = [{k: v for k, v in r.to_dict().items() if k not in ("new", "already")} | {"path": Path(r.path).name}
             for r in recorded]
    summary = {**run.summary, **plan_summary(run.result),
               "loop": {"outcome_files": files, "excluded": loop.excluded, "followups": len(loop.followups),
                        "followups_unscheduled": loop.followups_unscheduled, "history_touches": history_touches}}
    blocked = cannot_contact(run.result, run.spec, run.book.accounts)
    if blocked is not None:
        summary["cannot_contact"] = blocked
    return dataclasses.replace(run, summary=summary)


def _run_meta(run: PlanRun, label: str, start: dt.date, as_of: dt.date, history: pd.DataFrame) -> dict:
    """The ledger's runs row: the run id (a hash of campaign, week, as-of, resolved config, input
    fingerprints (content, not paths), the ledger history read and the version), the fingerprints and the
    start time."""
    spec = run.spec
    camp = spec.campaign.id
    config_sha = hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True, default=str).encode()).hexdigest()
    # the inputs by their content (sha256, rows), not by where they lie: the same book moved gives the same id
    content = {name: {k: v for k, v in given.items() if k != "path"} for name, given in run.book.inputs.items()}
    inputs_sha = hashlib.sha256(json.dumps(content, sort_keys=True).encode()
                                + pd.util.hash_pandas_object(history.astype(str), index=False).to_numpy().tobytes()
                                ).hexdigest()
    key = f"{camp}|{label}|{as_of.isoformat()}|{config_sha}|{inputs_sha}|{__version__}"
    return {"run_id": hashlib.sha256(key.encode()).hexdigest()[:16], "campaign_id": camp,
            "campaign_name": spec.campaign.name, "week": label, "week_start": start, "config_sha256": config_sha,
            "inputs_sha256": inputs_sha, "version": __version__, "started_at": _now()}


def uplift_files(led, spec: CampaignSpec, run: PlanRun, as_of: dt.date) -> dict[str, bytes]:
    """``uplift.csv`` and ``uplift_at_k.csv`` of the campaign's earlier weeks as of ``as_of`` (what ``reactivate
    evaluate`` writes), so that the week's report shows the uplift and it grows as the outcomes and returned
    lists come in; none before a contacted and a holdout customer's window (``learning.window_days``) closed."""
    if len(led.assignments(spec.campaign.id)) == 0:
        return {}
    ev = evaluate_campaign(led, spec, book=run.book, as_of=as_of)
    overall = ev.uplift.iloc[0]
    if not (overall["n_treated"] > 0 and overall["n_control"] > 0):
        return {}
    return {"uplift.csv": csv_bytes(ev.uplift.round(6)), "uplift_at_k.csv": csv_bytes(ev.at_k.round(6))}


def ledger_rows(run: PlanRun, followups: pd.DataFrame, start: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The week's planned touches (plan and follow-ups) and assignments, as ledger rows."""
    res, sc = run.result, run.scores
    plan = res.plan
    ids = sc.index.to_numpy(dtype=object)
    pos = plan["pos"].to_numpy()
    touches = pd.DataFrame({
        "customer_id": ids[pos],
        "segment_id": plan["segment_id"].astype(str).to_numpy(),
        "wave": plan["wave"].to_numpy(),
        "week_start": pd.to_datetime(plan["week_start"].astype(str)).to_numpy(),
        "channel": plan["channel"].astype(str).to_numpy(),
        "step": plan["step"].to_numpy(),
        "rm_id": plan["rm_id"].astype(str).to_numpy(),
        "theme": plan["theme"].astype(str).to_numpy(),
        "kind": PLANNED,
        "priority_rank": plan["priority_rank"].to_numpy(),
    })
    if len(followups):
        seg = sc["segment_id"].astype(str).reindex(followups["customer_id"]).fillna("").to_numpy()
        prio = sc["priority_rank"].reindex(followups["customer_id"]).fillna(0).astype("int64").to_numpy()
        touches = pd.concat([touches, pd.DataFrame({
            "customer_id": followups["customer_id"].to_numpy(), "segment_id": seg, "wave": 0,
            "week_start": pd.to_datetime(followups["week_start"]).to_numpy(), "channel": followups["channel"].to_numpy(),
            "step": 2, "rm_id": followups["rm_id"].to_numpy(), "theme": FOLLOW_UP, "kind": FOLLOW_UP,
            "priority_rank": prio})], ignore_index=True)
    st = pd.Timestamp(start)
    now = touches[(touches["week_start"] == st) & (touches["kind"] == PLANNED)]
    hold = res.holdout
    hid = hold["customer_id"].to_numpy(dtype=object)
    assignments = pd.concat([
        pd.DataFrame({"customer_id": now["customer_id"].to_numpy(), "grp": "contacted",
                      "segment_id": now["segment_id"].to_numpy(), "priority_rank": now["priority_rank"].to_numpy(),
                      "week_start": st}),
        pd.DataFrame({"customer_id": hid, "grp": "holdout", "segment_id": hold["segment_id"].astype(str).to_numpy(),
                      "priority_rank": sc["priority_rank"].reindex(hid).to_numpy(), "week_start": st}),
    ], ignore_index=True)
    assignments = assignments.drop_duplicates("customer_id").sort_values("customer_id", kind="stable")
    return touches, assignments.reset_index(drop=True)


def followup_files(followups: pd.DataFrame) -> dict[str, bytes]:
    """followups.csv (for programs: as it is) and each RM's weekly follow-up list followups/<week>/<rm>.csv
    (for a spreadsheet: every text cell neutralised; named by :func:`~reactivate.outputs.files.file_names`)."""
    files = {"followups.csv": csv_bytes(followups)}
    if not len(followups):
        return files
    rms = followups["rm_id"].astype(str)
    names = dict(zip(sorted(set(rms)), file_names(sorted(set(rms))), strict=True))  # one per RM
    for (ws, rm), g in followups.groupby(["week_start", rms], sort=True):  # one per RM list
        files[f"followups/{ws}/{names[rm]}.csv"] = sheet_csv_bytes(g.drop(columns=["rm_id", "week_start"]))
    return files


def ledger_file(url: str) -> Path | None:
    """The file of an SQLite ledger URL (None for another database or an in-memory one)."""
    text = str(url)
    if not text.startswith("sqlite") or "://" not in text:
        return None
    path = text.split("://", 1)[1].removeprefix("/").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def spec_inputs(spec: CampaignSpec, campaign: str | Path | None = None) -> dict[str, Path | None]:
    """The files a campaign spec was read from (its TOML and ``rm.overrides_file``), for
    :func:`~reactivate.outputs.files.check_out`."""
    source = campaign if campaign is not None else (spec.source if spec.source != "<defaults>" else None)
    overrides = Path(source).parent / spec.rm.overrides_file if source and spec.rm.overrides_file else None
    return {"--campaign": Path(source) if source else None, "rm.overrides_file": overrides}


def week_inputs(spec: CampaignSpec, campaign: Path, base: Path, label: str, paths: dict, given: dict,
                url: str) -> dict[str, Path | None]:
    """Every file the week reads (the spec, the tables, the outcome files, the ledger), by how it was
    given (``given``: the options passed, ``ledger`` among them): none may lie inside the week's outputs
    folder, which the run replaces whole."""
    led = "--ledger" if given.get("ledger") else "[ledger] url" if spec.ledger.url else "the ledger"
    found = {**spec_inputs(spec, campaign),
             **{(f"--{k.replace('_', '-')}" if given.get(k) is not None else f"[inputs] {k}"): v
                for k, v in paths.items()},
             led: ledger_file(url)}
    for pattern in spec.inputs.outcomes:  # one per pattern of [inputs] outcomes
        full = str(resolve(spec, base, pattern, label))
        files = sorted(glob.glob(full)) if any(ch in full for ch in "*?[") else [full]
        found.update({f"[inputs] outcomes {f}": Path(f) for f in files})
    found.update({f"[inputs] lists {f}": f for f in returned_lists(spec, base, label)})
    return found


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _event(event: str, **fields) -> None:
    log.info(event, extra={"fields": {"event": event, **fields}})


class JsonLines(logging.Formatter):
    """One JSON object per log line: time, level, logger, message and the event's fields.

    Fields carry counts, stages, file names and ids of runs -- never a customer's data."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        out.update(getattr(record, "fields", {}))
        if record.exc_info:
            out["error"] = record.exc_info[0].__name__ if record.exc_info[0] else ""
        return json.dumps(out, ensure_ascii=False, default=str)


class TextLines(logging.Formatter):
    """``event: key=value ...`` (``-v`` without ``--log-json``)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in getattr(record, "fields", {}).items() if k != "event"}
        return f"{record.getMessage()}: " + " ".join(f"{k}={v}" for k, v in fields.items())


def configure_logging(json_lines: bool, verbose: bool = False) -> None:
    """Log the batch's events to stderr: JSON lines, or short text lines with ``verbose``."""
    logger = logging.getLogger("reactivate")
    for h in list(logger.handlers):
        if getattr(h, "_reactivate", False):
            logger.removeHandler(h)
    if not (json_lines or verbose):
        return
    h = logging.StreamHandler()
    h._reactivate = True
    h.setFormatter(JsonLines() if json_lines else TextLines())
    logger.addHandler(h)
    logger.setLevel(logging.INFO)


__all__ = ["WeekResult", "configure_logging", "parse_week", "run_week", "week_of"]
