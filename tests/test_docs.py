"""Documentation that cannot rot: the contract page and the README are checked against the code."""

from __future__ import annotations

import re

import pytest

from reactivate.schema import contract_markdown
from tests.conftest import ROOT


def test_data_contract_page_matches_the_code():
    assert contract_markdown() in (ROOT / "docs" / "data.md").read_text()


def test_readme_quickstart_has_exactly_the_two_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quickstart\n(.*?)\n## ", text, re.S).group(1)
    commands = re.findall(r"^(python3 tasks\.py \w+)\s*$", block, re.M)
    assert commands == ["python3 tasks.py demo", "python3 tasks.py test"]


def test_ci_runs_the_readme_test_command():
    assert "python3 tasks.py test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_readme_weekly_loop_runs_as_written(tmp_path):
    """The README's weekly loop, command by command, on a small demo book (the only change: --customers):
    plan a week, fill the RMs' workbooks from the truth, record them (twice: nothing new), plan the next
    week, evaluate."""
    import shutil
    import subprocess
    import sys

    text = (ROOT / "README.md").read_text()
    block = re.search(r"### Week after week: the contact ledger\n.*?```\n(.*?)```", text, re.S).group(1)
    block = block.replace("\\\n", " ")
    commands = [line.split("#")[0].strip() for line in block.splitlines()
                if line.startswith(".venv/bin/reactivate ")]
    assert [c.split()[1] for c in commands] == ["demo", "run", "demo-data", "record", "run", "evaluate"]
    (tmp_path / "examples" / "weekly").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "weekly" / "campaign.toml", tmp_path / "examples" / "weekly")
    outputs = []
    for cmd in commands:
        args = cmd.split()[1:] + (["--customers", "3000"] if cmd.split()[1] == "demo" else [])
        res = subprocess.run([sys.executable, "-m", "reactivate", *args], cwd=tmp_path, capture_output=True,
                             text=True, timeout=600)
        assert res.returncode == 0, (cmd, res.stderr[-2000:])
        outputs.append(res.stdout + res.stderr)
    assert re.search(r"returned lists: \d+ read, \d+ with results \([\d,]+ rows; [\d,]+ recorded, 0 already",
                     outputs[3])
    assert "follow-ups" in outputs[4] and "uplift" in outputs[5]
    again = subprocess.run([sys.executable, "-m", "reactivate", *commands[3].split()[1:]], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0
    assert re.search(r"; 0 recorded, [\d,]+ already in the ledger\)", again.stdout + again.stderr)
