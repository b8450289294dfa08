"""The weekly examples: the campaign spec runs, the cron line and the systemd units call it the same way."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd

from reactivate.config.campaign import load_campaign
from reactivate.jobs.weekly import parse_week, run_week
from tests.conftest import ROOT

WEEKLY = ROOT / "examples" / "weekly"


def test_weekly_campaign_example_runs_on_the_demo_book(demo_book, tmp_path):
    spec = load_campaign(WEEKLY / "campaign.toml")
    assert spec.learning.method == "thompson" and spec.followup.rest_days == 90
    # the example's relative paths, laid out as in a checkout after `python3 tasks.py demo`
    (tmp_path / "examples" / "weekly" / "outcomes").mkdir(parents=True)
    shutil.copy(WEEKLY / "campaign.toml", tmp_path / "examples" / "weekly" / "campaign.toml")
    (tmp_path / "demo-output").mkdir()
    (tmp_path / "demo-output" / "book").symlink_to(demo_book)
    res = run_week(tmp_path / "examples" / "weekly" / "campaign.toml", "2026-W50")
    assert res.out.resolve() == (tmp_path / "demo-output" / "weekly" / "wake-weekly" / "2026-W50").resolve()
    assert (tmp_path / "demo-output" / "weekly" / "ledger.sqlite").is_file()
    assert len(pd.read_csv(res.out / "plan.csv")) == res.summary["plan"]["touches"] > 0


def test_cron_and_systemd_run_the_same_command():
    cron = [ln for ln in (WEEKLY / "reactivate-weekly.cron").read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(cron) == 1
    fields = cron[0].split(None, 6)
    assert fields[:5] == ["30", "5", "*", "*", "1"] and fields[5] == "reactivate"
    cron_cmd = fields[6].replace("\\%", "%")
    service = (WEEKLY / "reactivate-weekly.service").read_text()
    exec_line = re.search(r"^ExecStart=(.*)$", service, re.M).group(1).replace("%%", "%")
    for part in ("reactivate run --campaign examples/weekly/campaign.toml", '--week "$(date +%G-W%V)"', "--log-json"):
        assert part in cron_cmd and part in exec_line, part
    timer = (WEEKLY / "reactivate-weekly.timer").read_text()
    assert "OnCalendar=Mon *-*-* 05:30:00" in timer and "Persistent=true" in timer


def test_the_week_expression_gives_an_iso_week_the_run_accepts():
    for day, week in (("2026-12-31", "2026-W53"), ("2027-01-01", "2026-W53"), ("2027-01-04", "2027-W01")):
        out = subprocess.run(["date", "-d", day, "+%G-W%V"], capture_output=True, text=True, check=True).stdout.strip()
        assert out == week
        parse_week(out)
