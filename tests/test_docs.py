"""Documentation that cannot rot: the contract page and the README are checked against the code."""

from __future__ import annotations

import re

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
