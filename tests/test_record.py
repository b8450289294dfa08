"""reactivate record: validation, idempotence, unknown customers and unplanned touches reported."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reactivate.cli.app import app
from reactivate.loop.ledger import open_ledger
from tests.test_ledger import _meta, _touches, _write


def setup(tmp_path):
    db = tmp_path / "l.sqlite"
    led = open_ledger(db)
    _write(led, _meta(), _touches(["A", "B", "C"]), holdout=["H"])
    led.close()
    camp = tmp_path / "c.toml"
    camp.write_text('[campaign]\nid = "camp"\n')
    return db, camp


def rec(tmp_path, text, *extra):
    db, camp = tmp_path / "l.sqlite", tmp_path / "c.toml"
    path = tmp_path / "outcomes.csv"
    path.write_text(text)
    return CliRunner().invoke(app, ["record", "--outcomes", str(path), "--campaign", str(camp), "--ledger", str(db),
                                    "--as-of", "2027-01-31", *extra])


GOOD = ("customer_id,date,channel,outcome\n"
        "A,2026-12-08,sms,responded\n"
        "B,2026-12-09,sms,opted_out\n"
        "Z,2026-12-09,sms,declined\n"
        "C,2026-12-09,phone,declined\n"
        "H,2026-12-09,sms,responded\n")


def test_record_once_and_report(tmp_path):
    db, _ = setup(tmp_path)
    r = rec(tmp_path, GOOD)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines() == [
        "outcomes.csv: 5 rows; 2 recorded, 0 already in the ledger",
        "outcomes.csv: 1 row is a customer this campaign never planned, not recorded (row 3)",
        "outcomes.csv: 2 rows are touches this campaign never issued, not recorded (rows 4, 5)",
        "outcomes.csv: 1 row is a touch of a holdout customer (the holdout must not be contacted), not "
        "recorded (row 5)",
    ]
    r = rec(tmp_path, GOOD)
    assert r.stderr.splitlines()[0] == "outcomes.csv: 5 rows; 0 recorded, 2 already in the ledger"
    led = open_ledger(db)
    out = led.outcomes("camp")
    led.close()
    assert list(out["customer_id"]) == ["A", "B"] and list(out["planned_week"]) == ["2026-W50", "2026-W50"]


def recorded(db) -> list[str]:
    led = open_ledger(db)
    try:
        return sorted(led.outcomes("camp")["customer_id"])
    finally:
        led.close()


def test_strict_is_all_or_nothing(tmp_path):
    db, _ = setup(tmp_path)
    r = rec(tmp_path, GOOD, "--strict")
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert lines[0] == "outcomes.csv: 5 rows; nothing recorded (--strict: 2 good rows held back too)"
    assert lines[1:4] == [
        "outcomes.csv: 1 row is a customer this campaign never planned, not recorded (row 3)",
        "outcomes.csv: 2 rows are touches this campaign never issued, not recorded (rows 4, 5)",
        "outcomes.csv: 1 row is a touch of a holdout customer (the holdout must not be contacted), not "
        "recorded (row 5)"]
    assert lines[-1] == ("Error: --strict: 3 rows rejected (see above), so nothing was recorded, not even the 2 "
                         "good ones; fix or remove the rejected rows, or record without --strict")
    assert len([line for line in lines if line.startswith("Error:")]) == 1
    assert recorded(db) == []
    r = rec(tmp_path, "customer_id,date,channel,outcome\nA,2026-12-08,sms,responded\n", "--strict")
    assert r.exit_code == 0 and r.stderr == "outcomes.csv: 1 rows; 1 recorded, 0 already in the ledger\n"
    assert recorded(db) == ["A"]


def test_several_files_are_one_transaction(tmp_path):
    db, camp = setup(tmp_path)
    good = tmp_path / "good.csv"
    good.write_text("customer_id,date,channel,outcome\nA,2026-12-08,sms,responded\n")
    rejected = tmp_path / "rejected.csv"
    rejected.write_text("customer_id,date,channel,outcome\nB,2026-12-09,sms,declined\nZ,2026-12-09,sms,declined\n")
    broken = tmp_path / "broken.csv"
    broken.write_text("customer_id,date,channel,outcome\nB,2026-12-09,fax,declined\n")

    def run(*files, strict=()):
        args = ["record", "--campaign", str(camp), "--ledger", str(db), "--as-of", "2027-01-31", *strict]
        return CliRunner().invoke(app, [*args, *(a for f in files for a in ("--outcomes", str(f)))])

    # a file that breaks the contract: nothing of the good file before it either
    r = run(good, broken)
    assert r.exit_code == 2 and "'fax'" in r.stderr and recorded(db) == []
    # strict: a rejected row in the second file holds back the first file's good row too
    r = run(good, rejected, strict=("--strict",))
    assert r.exit_code == 2 and recorded(db) == []
    assert r.stderr.splitlines()[:2] == ["good.csv: 1 rows; nothing recorded (--strict: 1 good row held back too)",
                                         "rejected.csv: 2 rows; nothing recorded (--strict: 1 good row held back too)"]
    assert r.stderr.splitlines()[-1].startswith("Error: --strict: 1 row rejected (see above), so nothing was "
                                                "recorded, not even the 2 good ones")
    # without --strict the good rows of both files are recorded, the rejected one reported
    r = run(good, rejected)
    assert r.exit_code == 0 and recorded(db) == ["A", "B"]


def test_accept_unplanned(tmp_path):
    setup(tmp_path)
    r = rec(tmp_path, GOOD, "--accept-unplanned")
    assert r.exit_code == 0
    assert "outcomes.csv: 2 unplanned touches recorded as unplanned" in r.stderr
    assert r.stderr.splitlines()[0] == "outcomes.csv: 5 rows; 4 recorded, 0 already in the ledger"


def test_a_touch_delivered_late_matches_its_week(tmp_path):
    setup(tmp_path)
    r = rec(tmp_path, "customer_id,date,channel,outcome\nA,2027-01-03,sms,reactivated\nA,2027-01-04,sms,declined\n")
    # 27 days after the week started: still that touch; 28 days: no longer
    assert r.stderr.splitlines()[:2] == [
        "outcomes.csv: 2 rows; 1 recorded, 0 already in the ledger",
        "outcomes.csv: 1 row is a touch this campaign never issued, not recorded (row 2)"]


def test_bad_outcomes_file_is_one_error_and_records_nothing(tmp_path):
    db, _ = setup(tmp_path)
    r = rec(tmp_path, "customer_id,date,channel,outcome\nA,2026-12-08,sms,maybe\nB,2026-12-08,fax,declined\n")
    assert r.exit_code == 2
    err = r.stderr
    assert err.startswith("Error: 2 problems in the input data")
    assert "column 'outcome'" in err and "'maybe'" in err and "column 'channel'" in err and "'fax'" in err
    r = rec(tmp_path, "customer_id,date,channel\nA,2026-12-08,sms\n")
    assert r.exit_code == 2
    assert r.stderr.strip().startswith("Error: outcomes.csv: column 'outcome' is required in an outcomes file")
    r = rec(tmp_path, "customer_id,date,channel,outcome\nA,2026-12-08,sms,\n")
    assert r.exit_code == 2 and r.stderr.strip() == "Error: outcomes.csv: column 'outcome': missing in 1 rows (rows 1)"
    led = open_ledger(db)
    assert len(led.outcomes("camp")) == 0
    led.close()


def test_merge_history_counts_once(tmp_path):
    from reactivate.data.load import Book
    from reactivate.loop.record import merge_history

    old = pd.DataFrame({"customer_id": pd.Categorical(["A"]), "date": pd.to_datetime(["2026-12-08"]),
                        "channel": pd.Categorical(["sms"]), "campaign": ["x"], "outcome": pd.Categorical(["responded"])})
    hist = pd.DataFrame({"customer_id": ["A", "B"], "date": pd.to_datetime(["2026-12-08", "2026-12-09"]),
                         "channel": ["sms", "phone"], "campaign": "camp", "outcome": ["responded", None]})
    book = merge_history(Book(accounts=None, transactions=None, contacts=old), hist)
    c = book.contacts
    assert list(c["customer_id"]) == ["A", "B"] and c["outcome"].isna().tolist() == [False, True]
    assert str(c["date"].dtype) == "datetime64[s]" and "ledger" in book.notes[-1]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "H", "Z"]), st.integers(0, 30),
                          st.sampled_from(["sms", "phone"]), st.sampled_from(["responded", "declined", "no_answer"])),
                max_size=25))
def test_recording_is_idempotent_for_any_file(tmp_path_factory, rows):
    import datetime as dt

    from reactivate.config.campaign import load_campaign
    from reactivate.loop.record import record_outcomes

    tmp = tmp_path_factory.mktemp("prop")
    db, _ = setup(tmp)
    f = tmp / "o.csv"
    pd.DataFrame([(c, (pd.Timestamp("2026-12-07") + pd.Timedelta(days=d)).date().isoformat(), ch, o)
                  for c, d, ch, o in rows], columns=["customer_id", "date", "channel", "outcome"]).to_csv(f, index=False)
    spec = load_campaign(tmp / "c.toml")
    led = open_ledger(db)
    first = record_outcomes(led, f, spec, as_of=dt.date(2027, 3, 1))
    second = record_outcomes(led, f, spec, as_of=dt.date(2027, 3, 1))
    n = len(led.outcomes("camp"))
    led.close()
    # only touches of planned customers on the issued channel within 28 days of their week are recorded
    ok = {(c, d, ch, o) for c, d, ch, o in rows if c in "ABC" and ch == "sms" and d < 28}
    assert first.new == n == len(ok)
    assert second.new == 0 and second.already == first.new + first.already
    assert len(first.unknown_customer) == sum(c == "Z" for c, *_ in rows)


def test_strict_with_every_row_rejected(tmp_path):
    db, _ = setup(tmp_path)
    r = rec(tmp_path, "customer_id,date,channel,outcome\nZ,2026-12-09,sms,declined\n", "--strict")
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == "outcomes.csv: 1 rows; nothing recorded (--strict)"
    assert r.stderr.splitlines()[-1] == ("Error: --strict: 1 row rejected (see above), so nothing was recorded; fix "
                                         "or remove the rejected rows, or record without --strict")
    assert recorded(db) == []
