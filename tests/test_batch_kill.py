"""A killed weekly run leaves the ledger consistent and the last good outputs in place; a second run
of a locked campaign exits 3; the command line's exit codes and JSON logs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

from reactivate.jobs.weekly import run_week
from reactivate.loop.ledger import open_ledger
from tests.conftest import ROOT
from tests.test_batch import W1, campaign_file, read_dir


def cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "reactivate", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=300, **kw)


@pytest.mark.slow
def test_sigkill_mid_run_keeps_ledger_and_outputs(demo_book, tmp_path):
    camp = campaign_file(tmp_path, demo_book)
    good = run_week(camp, W1)
    before_out = read_dir(good.out)
    db = tmp_path / "runs" / "ledger.sqlite"
    led = open_ledger(db)
    before_planned = led.planned("wake-weekly")
    led.close()

    # a run with another as-of date (other outputs), paused with its ledger rows written and its outputs staged
    env = {**os.environ, "REACTIVATE_PAUSE_AT": "commit", "REACTIVATE_PAUSE_SECONDS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "reactivate", "run", "--campaign", str(camp), "--week", W1,
                             "--as-of", "2026-12-05", "--log-json"], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    try:
        events = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            events.append(json.loads(line))
            if events[-1]["event"] == "paused":
                break
        assert events and events[-1]["event"] == "paused", events
        assert list((tmp_path / "runs" / "wake-weekly").glob(f".{W1}.tmp-*"))  # outputs staged, not swapped

        # meanwhile a second run of the same campaign: locked, exit 3, one clear line, nothing changed
        r = cli("run", "--campaign", camp, "--week", W1)
        assert r.returncode == 3, r.stderr
        assert r.stderr.strip() == ("Error: campaign 'wake-weekly' is locked: another reactivate run for it is in "
                                    "progress (nothing was changed; run again when it has finished)")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    assert read_dir(good.out) == before_out  # the last good outputs, byte for byte
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        status = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
    assert status[good.run_id] == "ok" and sorted(status.values()) == ["ok", "started"]
    led = open_ledger(db)
    pd.testing.assert_frame_equal(led.planned("wake-weekly"), before_planned)  # the killed run's rows are gone
    led.close()

    # the lock died with the process: the week runs again, and its outputs replace the old ones
    r = cli("run", "--campaign", camp, "--week", W1, "--as-of", "2026-12-05")
    assert r.returncode == 0, r.stderr
    assert json.loads((good.out / "run.json").read_text())["as_of"] == "2026-12-05"


def test_cli_run_logs_json_lines_without_personal_data(demo_book, tmp_path):
    camp = campaign_file(tmp_path, demo_book)
    r = cli("run", "--campaign", camp, "--week", W1, "--log-json")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stderr.splitlines()]
    assert [e["event"] for e in events] == ["start", "history", "planned", "done"]
    assert all({"ts", "level", "campaign", "week"} <= set(e) for e in events)
    plan = pd.read_csv(tmp_path / "runs" / "wake-weekly" / W1 / "plan.csv", dtype=str)
    ids = set(plan["customer_id"])
    assert not any(i in r.stderr for i in list(ids)[:200])  # no customer id in the logs
    assert "C0" not in r.stderr


def test_cli_run_exit_codes_and_messages(demo_book, tmp_path):
    camp = campaign_file(tmp_path, demo_book)
    r = cli("run", "--campaign", camp, "--week", "2026-50")
    assert r.returncode == 2 and r.stderr.strip() == "Error: --week='2026-50' is not an ISO week like 2026-W49"
    r = cli("run", "--campaign", camp, "--week", W1, "--transactions", tmp_path / "missing.csv")
    assert r.returncode == 2 and r.stderr.strip() == f"Error: {tmp_path / 'missing.csv'}: file not found"
    bad = tmp_path / "bad.toml"
    bad.write_text('[inputs]\naccounts = "nowhere.csv"\n')
    r = cli("run", "--campaign", bad, "--week", W1, "--log-json")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert lines[-1] == f"Error: {tmp_path / 'nowhere.csv'}: file not found"
    failed = json.loads(lines[-2])
    assert (failed["event"], failed["exit_code"], failed["error"]) == ("failed", 2, "InputDataError")


@pytest.mark.parametrize("command", ["run", "record", "evaluate"])
def test_loop_commands_have_help_with_an_example(command):
    from typer.testing import CliRunner

    from reactivate.cli.app import app

    r = CliRunner().invoke(app, [command, "--help"])
    assert r.exit_code == 0
    assert "Example:" in r.stdout and f"reactivate {command}" in r.stdout
