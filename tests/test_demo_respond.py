"""A simulated week of the demo bank (reactivate.demo.respond): lists filled from the truth, the book moved on.

The lists here are made by hand in the layout of the list contract (a workbook with a very hidden
``_meta`` sheet, a protected list sheet whose only unlocked cells are contacted_on, result and note;
a CSV list ending in run_id, week_start, rm_id, contacted_on, result, note), so these tests do not
depend on the writer.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import xlsxwriter
from openpyxl import load_workbook
from typer.testing import CliRunner

from reactivate.cli.app import app
from reactivate.demo import book as demo
from reactivate.demo.respond import (
    advance_book,
    draw_responses,
    find_truth,
    read_truth,
    respond,
    spontaneous_comebacks,
    true_uplift,
)
from reactivate.errors import InputDataError
from reactivate.outputs.lists import RESULTS, result_code
from reactivate.schema import CHANNELS, OUTCOMES

WEEK = dt.date(2026, 11, 30)
KEYS = ["customer_id", "why_now", "theme", "opener", "channel", "last_contacts", "best_time", "name", "mobile",
        "segment", "shortfall", "products", "balance_band", "contacted_on", "result", "note", "step"]


def write_workbook(path, rows: pd.DataFrame, lang: str = "en", week: dt.date = WEEK) -> None:
    """An RM workbook in the contract's layout (what the writer makes; only the parts respond relies on)."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": dt.datetime(2026, 11, 30)})
    summary = wb.add_worksheet("Summary")
    summary.write(0, 0, "calls this week")
    ws = wb.add_worksheet(week.isoformat())
    unlocked = wb.add_format({"locked": False})
    date_fmt = wb.add_format({"locked": False, "num_format": "yyyy-mm-dd"})
    for j, key in enumerate(KEYS):
        ws.write_string(0, j, key.replace("_", " ").title())
    ws.write_comment(0, KEYS.index("result"), "what happened")
    for i, r in enumerate(rows.itertuples(index=False), start=1):
        for j, key in enumerate(KEYS):
            if key == "step":
                ws.write_number(i, j, int(r.step))
            elif key in ("contacted_on", "result", "note"):
                ws.write_blank(i, j, None, date_fmt if key == "contacted_on" else unlocked)
            else:
                ws.write_string(i, j, str(getattr(r, key, "") or ""))
    n = len(rows)
    c = KEYS.index("contacted_on")
    ws.data_validation(1, c, max(n, 1), c, {"validate": "date", "criteria": "between",
                                            "minimum": week, "maximum": week + dt.timedelta(days=6)})
    labels = [v[lang] for v in RESULTS.values()]
    ws.data_validation(1, c + 1, max(n, 1), c + 1, {"validate": "list", "source": labels})
    ws.set_column(len(KEYS) - 1, len(KEYS) - 1, None, None, {"hidden": True})
    ws.freeze_panes(1, 0)
    ws.protect()
    meta = wb.add_worksheet("_meta")
    for i, (k, v) in enumerate({"format": "reactivate-list-1", "campaign_id": "wake", "run_id": "r1",
                                "week": "2026-W49", "week_start": week.isoformat(), "rm_id": path.stem,
                                "lang": lang, "columns": ",".join(KEYS)}.items()):
        meta.write_string(i, 0, k)
        meta.write_string(i, 1, v)
    meta.very_hidden()
    wb.close()


def write_csv(path, rows: pd.DataFrame) -> None:
    df = pd.DataFrame({"priority": np.arange(1, len(rows) + 1), "customer_id": rows["customer_id"],
                       "segment_name": "Seg, one", "channel": rows["channel"], "step": rows["step"],
                       "p_reactivate": 0.1234, "run_id": "r1", "week_start": WEEK.isoformat(), "rm_id": path.stem,
                       "contacted_on": "", "result": "", "note": ""})
    df.to_csv(path, index=False, lineterminator="\n")


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    paths = demo.write_book(demo.generate_book(600, seed=4), out, fmt="csv")
    return out, paths


def make_run(tmp_path, book_dir, n_rm: int = 3, per_rm: int = 25, lang: str = "en"):
    """A run folder with run.json pointing at the book, and lists for ``n_rm`` RMs."""
    run = tmp_path / "run"
    folder = run / "targets" / WEEK.isoformat()
    folder.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"inputs": {"accounts": {"path": str(book_dir / "accounts.csv")}}}))
    truth = read_truth(next(book_dir.glob("truth.*"))).reset_index()
    rng = np.random.default_rng(0)
    ids = truth["customer_id"].sample(n_rm * per_rm, random_state=1).to_numpy()
    ids[0] = "'" + ids[0]  # as neutralised text: the apostrophe is not part of the id
    rows = pd.DataFrame({"customer_id": ids, "channel": rng.choice(CHANNELS, len(ids)), "step": 1,
                         "name": "Ada Sample (demo)", "mobile": "(200) 555-0100"})
    for r in range(n_rm):
        part = rows.iloc[r * per_rm:(r + 1) * per_rm]
        write_workbook(folder / f"RM{r:04d}.xlsx", part, lang=lang)
        write_csv(folder / f"RM{r:04d}.csv", part)
    return run, folder


def sheet_values(path):
    wb = load_workbook(path)
    ws = wb[WEEK.isoformat()]
    col = {k: i for i, k in enumerate(KEYS)}
    out = [(r[col["customer_id"]], r[col["step"]], r[col["contacted_on"]], r[col["result"]], r[col["note"]])
           for r in ws.iter_rows(min_row=2, values_only=True)]
    return wb, out


def test_respond_fills_every_row_of_both_lists_alike(tmp_path, small_book):
    book_dir, _ = small_book
    run, folder = make_run(tmp_path, book_dir)
    res = respond(run, seed=3)
    assert res.truth == book_dir / "truth.csv"  # found beside the book run.json names
    assert res.week_start == WEEK and len(res.files) == 6 and len(res.touches) == 75
    assert sum(res.counts().values()) == 75
    for xlsx in sorted(folder.glob("*.xlsx")):
        wb, rows = sheet_values(xlsx)
        csv = pd.read_csv(xlsx.with_suffix(".csv"), dtype=str, keep_default_na=False)
        for (_, _, day, result, note), (_, c) in zip(rows, csv.iterrows(), strict=True):
            assert WEEK <= day.date() <= WEEK + dt.timedelta(days=6)
            assert result_code(result) in OUTCOMES
            assert (c["contacted_on"], c["result"], c["note"]) == (day.date().isoformat(), result, note or "")
        ws = wb[WEEK.isoformat()]
        # what the bank may not touch stays as it was
        assert ws.protection.sheet and wb["_meta"].sheet_state == "veryHidden"
        assert len(ws.data_validations.dataValidation) == 2
        assert ws.cell(row=1, column=KEYS.index("result") + 1).comment.text.startswith("what happened")
        assert ws.cell(row=2, column=KEYS.index("contacted_on") + 1).number_format == "yyyy-mm-dd"
        assert ws.column_dimensions["Q"].hidden and ws.freeze_panes == "A2"
        assert csv["segment_name"].eq("Seg, one").all() and csv["p_reactivate"].eq("0.1234").all()
    first = pd.read_csv(folder / "RM0000.csv", dtype=str)
    assert first.loc[0, "customer_id"].startswith("'")  # the cell is kept; the id matched without it
    assert 0 < (res.touches["note"] != "").mean() < 0.7


def test_respond_is_deterministic_for_a_seed(tmp_path, small_book):
    book_dir, _ = small_book
    runs = [make_run(tmp_path / str(i), book_dir)[1] for i in range(3)]
    for i, folder in enumerate(runs):
        respond(folder.parents[1], seed=0 if i < 2 else 1)
    same = [{p.name: p.read_bytes() for p in folder.iterdir()} for folder in runs]
    assert same[0] == same[1]  # the same bytes, workbooks too
    assert same[0] != same[2]


def test_chinese_workbooks_get_chinese_results_and_their_csv_too(tmp_path, small_book):
    book_dir, _ = small_book
    run, folder = make_run(tmp_path, book_dir, n_rm=1, lang="zh")
    respond(run, seed=2)
    _, rows = sheet_values(folder / "RM0000.xlsx")
    zh = {v["zh"] for v in RESULTS.values()}
    assert {r[3] for r in rows} <= zh
    assert set(pd.read_csv(folder / "RM0000.csv")["result"]) <= zh


def test_outcomes_follow_the_contact_model():
    # one customer per touch: an elderly saver and a young drifter, on each one's best and worst channel
    n = 20_000
    truth = pd.DataFrame({"persona": ["elderly_saver"] * n + ["young_digital_drifter"] * n,
                          "true_p_reactivate": 0.4, "best_channel": "phone"},
                         index=pd.Index([f"C{i:06d}" for i in range(2 * n)], name="customer_id"))
    channel = np.where(np.arange(2 * n) % 2 == 0, np.r_[["phone"] * n, ["app"] * n], "email")
    touches = pd.DataFrame({"customer_id": truth.index, "step": 1, "channel": channel})
    got = draw_responses(touches, truth, WEEK, seed=5)
    probs = demo.contact_outcome_probs(
        pd.Categorical(got["persona"], categories=demo.PERSONAS).codes, pd.Categorical(got["channel"],
                                                                                        categories=CHANNELS).codes,
        got["true_p_reactivate"].to_numpy())
    for o in ("reactivated", "responded", "declined", "no_answer"):
        expected = probs[:, OUTCOMES.index(o)]
        groups = got.assign(hit=got["outcome"] == o, p=expected).groupby(["persona", "channel"])
        for _, g in groups:  # four groups
            se = np.sqrt(g["p"].mean() * (1 - g["p"].mean()) / len(g))
            assert abs(g["hit"].mean() - g["p"].mean()) < 4 * se + 1e-9, (o, g.name)
    # reactivated: 0.7 * 0.4 * fit -- the best channel brings back 0.28, email 0.028 / 0.14
    back = got.assign(b=got["came_back_on"].notna()).groupby(["persona", "channel"])["b"].mean()
    assert back[("elderly_saver", "phone")] == pytest.approx(0.28, abs=0.02)
    assert back[("elderly_saver", "email")] == pytest.approx(0.028, abs=0.01)
    days = got["came_back_on"].dropna()
    assert (days >= got.loc[days.index, "contacted_on"]).all()
    assert (days < pd.Timestamp(WEEK + dt.timedelta(days=7))).all()


def test_true_uplift_by_hand():
    truth = pd.DataFrame({"persona": ["lapsed_affluent"], "true_p_reactivate": [0.5], "best_channel": ["phone"]},
                         index=pd.Index(["C1"], name="customer_id"))
    # phone: fit 1, r = min(0.7 * 0.5, 0.5) = 0.35; on their own within 30 days: 1 - (1 - 0.1 * 0.5) ** (30 / 84)
    s = 1 - 0.95 ** (30 / 84)
    assert true_uplift(truth, ["C1"], ["phone"], 30)[0] == pytest.approx(0.35 * (1 - s))
    assert true_uplift(truth, ["C1"], ["mail"], 30)[0] == pytest.approx(0.7 * 0.5 * 0.2 * (1 - s))


def test_spontaneous_comebacks_follow_the_hazard():
    n = 200_000
    truth = pd.DataFrame({"persona": "elderly_saver", "true_p_reactivate": 0.5, "best_channel": "phone"},
                         index=pd.Index([f"C{i:07d}" for i in range(n)], name="customer_id"))
    got = spontaneous_comebacks(truth, WEEK, seed=1)
    expected = 1 - 0.95 ** (7 / 84)
    assert len(got) / n == pytest.approx(expected, rel=0.1)
    assert got["day"].between(pd.Timestamp(WEEK), pd.Timestamp(WEEK + dt.timedelta(days=6))).all()
    again = spontaneous_comebacks(truth, WEEK, seed=1)
    pd.testing.assert_frame_equal(got, again)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_advance_book_adds_the_comebacks_once(tmp_path, fmt):
    from reactivate.config.campaign import load_campaign
    from reactivate.data.load import load_book

    book_dir = tmp_path / "book"
    demo.write_book(demo.generate_book(500, seed=6), book_dir, fmt=fmt)
    run, _ = make_run(tmp_path, book_dir, n_rm=2, per_rm=100)
    (run / "run.json").write_text(json.dumps({"inputs": {"accounts": {"path": str(book_dir / f"accounts.{fmt}")}}}))
    res = respond(run, seed=1)
    truth = read_truth(res.truth)
    added = advance_book(book_dir, truth, WEEK, res.touches, seed=1)
    back = res.touches.dropna(subset=["came_back_on"])
    assert added >= len(back) > 0
    assert advance_book(book_dir, truth, WEEK, res.touches, seed=1) == 0  # the same week again: nothing new
    day = WEEK + dt.timedelta(days=7)
    book = load_book(accounts=book_dir / f"accounts.{fmt}", transactions=book_dir / f"transactions.{fmt}",
                     spec=load_campaign(None), as_of=day)
    txn = book.transactions
    new = txn[txn["timestamp"] >= pd.Timestamp(WEEK)]
    assert len(new) == added and (new["initiated_by"] == "customer").all()
    assert set(back["customer_id"]) <= set(new["customer_id"].astype(str))
    last = book.accounts.groupby("customer_id", observed=True)["last_activity_date"].max()
    assert (last.reindex(back["customer_id"]).to_numpy() >= back["came_back_on"].to_numpy()).all()
    ordered = txn["customer_id"].astype(str).to_numpy()
    assert (ordered[:-1] <= ordered[1:]).all()  # still by customer


def test_errors_name_what_is_wrong(tmp_path, small_book):
    book_dir, _ = small_book
    with pytest.raises(InputDataError, match=r"no week of RM lists"):
        respond(tmp_path)
    run, _ = make_run(tmp_path, book_dir, n_rm=1)
    (run / "run.json").write_text(json.dumps({"inputs": {"accounts": {"path": str(tmp_path / "x" / "a.csv")}}}))
    with pytest.raises(InputDataError, match=r"no demo truth beside the run's book .*give --truth PATH"):
        find_truth(run)
    other = tmp_path / "other"
    demo.write_book(demo.generate_book(50, seed=9), other, fmt="csv")
    truth = pd.read_csv(other / "truth.csv")
    truth["customer_id"] = "X" + truth["customer_id"]
    truth.to_csv(other / "truth.csv", index=False)
    with pytest.raises(InputDataError, match=r"25 customers are not in the demo truth \(first '.*'\); give the "
                                             r"--truth of the book this run planned on"):
        respond(run, truth=other / "truth.csv")


def test_cli_respond(tmp_path, small_book):
    book_dir, _ = small_book
    run, _ = make_run(tmp_path, book_dir, n_rm=2)
    runner = CliRunner()
    res = runner.invoke(app, ["demo-data", "--respond", str(run), "--seed", "4"])
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith(f"filled 4 RM lists in {run / 'targets' / WEEK.isoformat()}/: 50 touches: ")
    res = runner.invoke(app, ["demo-data", "--respond", str(run), "--customers", "5"])
    assert res.exit_code == 2
    assert res.stderr == ("Error: --customers writes a new book: leave it out with --respond (which fills in a "
                          "run's lists)\n")
    res = runner.invoke(app, ["demo-data", "--book", str(book_dir)])
    assert (res.exit_code, res.stderr) == (2, "Error: --book goes with --respond RUN_DIR\n")
    res = runner.invoke(app, ["demo-data", "--respond", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and res.stderr.startswith("Error: ") and "no week of RM lists" in res.stderr
