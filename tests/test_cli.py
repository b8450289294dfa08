"""The command line: exact error lines and exit codes, help texts, safe outputs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from reactivate import __version__
from reactivate.cli import app
from tests.conftest import ROOT, write

runner = CliRunner()
COMMANDS = ["plan", "rank", "validate", "demo-data", "demo"]


def invoke(*args):
    return runner.invoke(app, list(map(str, args)))


def test_version():
    r = invoke("--version")
    assert r.exit_code == 0 and r.stdout == f"reactivate {__version__}\n"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    r = invoke(command, "--help")
    assert r.exit_code == 0
    assert "Example:" in r.stdout and f"reactivate {command}" in r.stdout


def test_python_dash_m_works_and_help_is_light():
    r = subprocess.run([sys.executable, "-m", "reactivate", "--help"], capture_output=True, text=True, check=True)
    assert "plan" in r.stdout
    # heavy libraries are imported lazily: --help must not pull in pandas or scikit-learn
    code = "import sys; from reactivate.cli import app; print('pandas' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_bad_input_exact_error_exit_2_and_nothing_written(tmp_path):
    p = write(tmp_path / "accounts.csv", "customer_id,account_id,product,open_date,last_activity_date,balance\n"
              "C1,A1,savings,2020-01-01,2026-01-01,-3\n")
    out = tmp_path / "out"
    r = invoke("plan", "--as-of", "2026-11-30", "--accounts", p, "--out", out)
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: 1 problem in the input data\n"
        "  accounts.csv: column 'balance': negative balance on a deposit product (savings, term_deposit, "
        "wealth, fund) in 1 row (row 1; first value '-3.0')\n"
    )
    assert "Traceback" not in r.output
    assert not out.exists()
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_bad_date_option_and_bad_config(tmp_path):
    r = invoke("plan", "--as-of", "30/11/2026", "--out", tmp_path / "o")
    assert r.exit_code == 2 and r.stderr == "Error: --as-of='30/11/2026' is not a date like 2026-11-30\n"
    cfg = write(tmp_path / "c.toml", "[waves]\nfoo = 1\n")
    r = invoke("plan", "--as-of", "2026-11-30", "--accounts", tmp_path / "a.csv", "--campaign", cfg,
               "--out", tmp_path / "o")
    assert r.exit_code == 2 and r.stderr.startswith(f"Error: {cfg}: unknown key 'waves.foo' (known: ")


def test_missing_file(tmp_path):
    r = invoke("validate", "--as-of", "2026-11-30", "--accounts", tmp_path / "nope.csv")
    assert r.exit_code == 2 and r.stderr == f"Error: {tmp_path / 'nope.csv'}: file not found\n"


def test_a_failed_run_keeps_the_previous_outputs(tmp_path, demo_book):
    out = tmp_path / "out"
    args = ["plan", "--as-of", "2026-11-30", "--accounts", demo_book / "accounts.csv", "--out", out]
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    bad = write(tmp_path / "bad.csv", "customer_id,account_id\nC1,A1\n")
    r = invoke("plan", "--as-of", "2026-11-30", "--accounts", bad, "--out", out)
    assert r.exit_code == 2
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_refuses_to_replace_a_directory_it_did_not_write(tmp_path, demo_book):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    r = invoke("plan", "--as-of", "2026-11-30", "--accounts", demo_book / "accounts.csv", "--out", out)
    assert r.exit_code == 3
    assert "not empty and holds no run.json; refusing to replace" in r.stderr
    assert (out / "precious.txt").read_text() == "keep me"


def test_validate_reports_ok_and_notes(tiny_accounts):
    r = invoke("validate", "--as-of", "2026-11-30", "--accounts", tiny_accounts)
    assert r.exit_code == 0
    assert "accounts: 5 rows OK (accounts.csv)" in r.stderr
    assert "note: accounts.csv: optional columns absent:" in r.stderr


def test_plan_json_summary_on_stdout(tmp_path, demo_book):
    import json

    r = invoke("plan", "--as-of", "2026-11-30", "--accounts", demo_book / "accounts.csv", "--transactions",
               demo_book / "transactions.csv", "--out", tmp_path / "o", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["targets"] > 0 and summary["plan"]["touches"] > 0
    assert "outputs in" in r.stderr


def test_demo_data_rejects_bad_format(tmp_path):
    r = invoke("demo-data", "--customers", "10", "--format", "xlsx", "--out", tmp_path / "d")
    assert r.exit_code == 2 and r.stderr.startswith("Error: ")


def test_a_tiny_book_by_hand(tiny_accounts, tmp_path):
    """C1 active; C2 dormant with a deposit maturing 2026-12-20; C3 do-not-contact; C4 in hardship."""
    import pandas as pd

    src = tiny_accounts.read_text().splitlines()
    text = "\n".join([src[0] + ",consent_phone"] + [line + ",true" for line in src[1:]]) + "\n"
    acc = write(tmp_path / "acc.csv", text)
    out = tmp_path / "o"
    r = invoke("plan", "--as-of", "2026-11-30", "--accounts", acc, "--out", out)
    assert r.exit_code == 0, r.output
    plan = pd.read_csv(out / "plan.csv").set_index("customer_id")
    assert sorted(plan.index) == ["C2", "C4"]
    assert plan.loc["C2", ["week_start", "channel", "theme", "reason"]].tolist() == [
        "2026-12-07", "phone", "maturity_reminder", "deposit matures 2026-12-20"]
    assert plan.loc["C4", ["wave", "channel", "theme"]].tolist() == [0, "phone", "care_checkin"]
    assert pd.read_csv(out / "suppressed.csv").to_dict("records") == [
        {"customer_id": "C3", "segment_id": "S01", "reason": "do not contact"}]


def test_rank_writes_the_same_scores_as_plan(demo_book, tmp_path):
    args = ["--as-of", "2026-11-30", "--accounts", demo_book / "accounts.csv", "--transactions",
            demo_book / "transactions.csv", "--contacts", demo_book / "contacts.csv"]
    r1 = invoke("rank", *args, "--out", tmp_path / "rank")
    r2 = invoke("plan", *args, "--out", tmp_path / "plan")
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    assert (tmp_path / "rank" / "scores.csv").read_bytes() == (tmp_path / "plan" / "scores.csv").read_bytes()
    ranked = (tmp_path / "rank" / "segments_ranked.csv").read_text().splitlines()
    assert ranked[0].startswith("segment_id,segment_name,kind,rank,")
    assert [line.split(",")[3] for line in ranked[1:]] == [str(i) for i in range(1, len(ranked))]
    assert not (tmp_path / "rank" / "plan.csv").exists()
    # both say which propensity source was used and how it did on the held-out slice
    import json
    import re

    info = json.loads((tmp_path / "rank" / "summary.json").read_text())["scoring"]
    line = next(x for x in r1.output.splitlines() if "scoring:" in x)
    assert info["note"] in line
    assert re.search(rf"AUC {info['auc']:.3f}.* on [\d,]+ held-out (contacts|customers) from {info['held_out']['from']}",
                     line), line
    assert line.split("scoring: ")[1] in r2.output


def test_demo_runs_end_to_end_and_checks_itself_against_the_truth(tmp_path):
    import json

    from reactivate.config.shipped import segments_file

    out = tmp_path / "d"
    r = invoke("demo", "--customers", "4000", "--out", out)
    assert r.exit_code == 0, r.output
    check = json.loads((out / "truth_check.json").read_text())
    assert set(check) == {"customers", "auc", "oracle_auc", "segment_spearman", "segments"}
    assert 0.5 < check["auc"] <= 1 and check["customers"] > 1000
    lines = r.stderr.splitlines()
    assert lines[0] == f"wrote 4,000 customers to {out / 'book'}/: accounts.csv, transactions.csv, contacts.csv, truth.csv"
    assert lines[1].startswith(f"reactivate {__version__}: 4,000 customers on 2026-11-30, ")
    assert lines[-2] == (f"  outputs in {out / 'plan'}/ (scores.csv, segments.csv, plan.csv, targets/, summary.json, "
                         "report.html)")
    assert lines[-1] == (f"against the demo's ground truth: customer AUC {check['auc']:.3f} (the truth itself: "
                         f"{check['oracle_auc']:.3f}), segment ranking Spearman {check['segment_spearman']:.2f} "
                         f"-> {out / 'truth_check.json'}")
    assert (out / "plan" / "plan.csv").is_file() and (out / "plan" / "report.html").is_file()
    run = json.loads((out / "plan" / "run.json").read_text())
    # the shipped demo campaign scaled to the book (written beside it) and the shipped segmentation spec
    assert (run["campaign_source"], run["segmentation_source"]) == (str(out / "campaign.toml"), str(segments_file()))
    assert run["campaign"]["channels"]["phone"]["weekly_capacity"] == 60  # 300 for 20,000 customers
    # the demo's plan is what reactivate plan writes on its book with those specs
    book = out / "book"
    r = invoke("plan", "--as-of", "2026-11-30", "--accounts", book / "accounts.csv", "--transactions",
               book / "transactions.csv", "--contacts", book / "contacts.csv", "--campaign", out / "campaign.toml",
               "--segments", segments_file(), "--out", tmp_path / "p")
    assert r.exit_code == 0, r.output

    def files(d):
        return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}

    assert files(tmp_path / "p") == files(out / "plan")


def test_plan_with_a_ledger_records_its_first_week_and_reruns_replace_it(tmp_path, demo_book):
    from reactivate.loop.ledger import open_ledger

    led_path = tmp_path / "ledger.sqlite"
    args = ["plan", "--as-of", "2026-11-30", "--accounts", demo_book / "accounts.csv", "--transactions",
            demo_book / "transactions.csv", "--contacts", demo_book / "contacts.csv", "--no-report",
            "--campaign", ROOT / "campaigns" / "default.toml", "--ledger", led_path]
    r = invoke(*args, "--out", tmp_path / "a")
    assert r.exit_code == 0, r.output
    assert "recorded in the ledger" in r.output and (tmp_path / "a" / "plan.csv").is_file()
    led = open_ledger(led_path)
    try:
        runs = led.runs("wake-2026q4")
        planned = led.planned("wake-2026q4")
        assert len(runs) == 1 and len(planned) > 0
        r = invoke(*args, "--out", tmp_path / "b")  # the same week again: replaced, not duplicated
        assert r.exit_code == 0, r.output
        assert len(led.planned("wake-2026q4")) == len(planned)
    finally:
        led.close()


def test_the_cli_is_assembled_in_one_module_that_no_command_module_imports():
    """cli/app.py imports every command module at its top; a command module never imports it (no cycle)."""
    import ast

    cli = ROOT / "reactivate" / "cli"
    for path in sorted(cli.glob("*.py")):
        if path.name in ("app.py", "__init__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            assert not {"reactivate.cli", "reactivate.cli.app"} & set(targets), f"{path.name}:{node.lineno}"
    app_src = (cli / "app.py").read_text()
    assert "noqa: E402" not in app_src
    tree = ast.parse(app_src)
    top = {a.name for node in tree.body if isinstance(node, ast.ImportFrom) and node.module == "reactivate.cli"
           for a in node.names}
    assert top >= {"demo", "loop", "plan", "report", "segments"}


def test_every_command_is_a_module_level_function_of_its_module():
    from reactivate.cli.app import COMMANDS as assembled_commands
    from reactivate.cli.app import app as assembled_app

    for name, fn in assembled_commands.items():
        module = sys.modules[fn.__module__]
        assert getattr(module, fn.__name__) is fn and "<locals>" not in fn.__qualname__, name
    registered = [c.name for c in assembled_app.registered_commands]
    assert registered == [*COMMANDS[:3], "demo-data", "demo", "run", "record", "evaluate", "report", "backtest"]


def test_demo_data_defaults_to_the_day_the_demo_plans_on():
    from reactivate.cli.demo import DEMO_AS_OF
    from reactivate.demo.job import DEMO_AS_OF as day

    assert DEMO_AS_OF == day.isoformat()
