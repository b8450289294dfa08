"""``reactivate segments`` and ``plan --segments-model``: help, exit codes, exact error lines."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reactivate.cli import app
from tests.conftest import write

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(map(str, args)))


@pytest.mark.parametrize("command", ["fit", "describe"])
def test_every_segments_command_has_help_with_an_example(command):
    r = invoke("segments", command, "--help")
    assert r.exit_code == 0
    assert "Example:" in r.stdout and f"reactivate segments {command}" in r.stdout


def test_segments_group_help_lists_its_commands():
    r = invoke("segments", "--help")
    assert r.exit_code == 0 and "fit" in r.stdout and "describe" in r.stdout
    assert "--segments-model" in invoke("plan", "--help").stdout


def test_fit_then_describe_and_plan_with_the_model(tmp_path, demo_book):
    model = tmp_path / "m.json"
    book = ["--as-of", "2026-11-30", "--accounts", demo_book / "accounts.csv"]
    r = invoke("segments", "fit", *book, "--model", model, "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert r.stderr.startswith(f"fitted {len(info['segments'])} segments on {info['targets']:,} dormant customers")
    assert json.loads(model.read_text())["format"] == "reactivate-segment-model"

    out = tmp_path / "desc"
    r = invoke("segments", "describe", *book, "--segments-model", model, "--out", out)
    assert r.exit_code == 0, r.output
    assert "[hardship] Hardship · care first (carve-out" in r.stderr
    assert "service shortfalls:" in r.stderr and "drift since the fit: population stability index 0.000" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "segment_sizes.png", "segment_traits.png",
                                                    "segments.csv", "segments.json"]
    doc = json.loads((out / "segments.json").read_text())
    assert {s["segment_id"]: s["segment_name"] for s in doc["segments"]} == {
        s["segment_id"]: s["name"] for s in info["segments"]}
    assert doc["drift"]["psi"] == 0
    # the model keeps the fit-time assignment (by keyed hash, no id in the clear): nobody moved
    assert doc["drift"]["changed_share"] == 0 and doc["drift"]["new_since_fit"] == 0
    assert doc["drift"]["customers_seen_at_fit"] == info["targets"]
    assert "C000" not in model.read_text()

    r = invoke("plan", *book, "--segments-model", model, "--out", tmp_path / "plan", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["segments_drift"]["refit_recommended"] is False
    assert "segment drift: population stability index 0.000 <= 0.2" in r.stderr


def test_a_corrupted_model_is_one_error_line_exit_2(tmp_path):
    bad = write(tmp_path / "m.json", "not json")
    for args in (["plan", "--out", tmp_path / "o"], ["segments", "describe", "--out", tmp_path / "o"]):
        r = invoke(*args, "--as-of", "2026-11-30", "--accounts", tmp_path / "a.csv", "--segments-model", bad)
        assert r.exit_code == 2
        assert r.stderr == (f"Error: {bad}: not a segment model (not valid JSON: Expecting value: "
                            "line 1 column 1 (char 0))\n")
        assert "Traceback" not in r.output and not (tmp_path / "o").exists()


def test_spec_and_model_together_and_bad_inputs(tmp_path):
    spec = write(tmp_path / "s.toml", "")
    r = invoke("plan", "--as-of", "2026-11-30", "--accounts", tmp_path / "a.csv", "--segments", spec,
               "--segments-model", tmp_path / "m.json", "--out", tmp_path / "o")
    assert r.exit_code == 2
    assert r.stderr == ("Error: give either a segmentation spec or a saved segment model, not both "
                        "(the model carries the spec it was fitted with)\n")
    r = invoke("segments", "fit", "--as-of", "2026-11-30", "--accounts", tmp_path / "a.csv",
               "--model", tmp_path / "m.json")
    assert r.exit_code == 2 and r.stderr == f"Error: {tmp_path / 'a.csv'}: file not found\n"
    assert not (tmp_path / "m.json").exists()
    r = invoke("segments", "fit", "--as-of", "30/11/2026", "--model", tmp_path / "m.json")
    assert r.exit_code == 2 and r.stderr == "Error: --as-of='30/11/2026' is not a date like 2026-11-30\n"
