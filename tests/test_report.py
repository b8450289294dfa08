"""The HTML report: what it shows, that it is self-contained and deterministic, Chinese, the CLI."""

from __future__ import annotations

import html
import re
import shutil
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

from reactivate.cli import app
from reactivate.errors import InputDataError
from reactivate.outputs.i18n import FEATURES, PHRASES_ZH, STRINGS, phrase, t
from reactivate.outputs.report import load_run_outputs, render_report

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(map(str, args)))


@pytest.fixture
def run_dir(demo_run, tmp_path):
    """A private copy of the demo run's outputs (without the RM lists), to add files to."""
    _, out = demo_run
    dst = tmp_path / "run"
    shutil.copytree(out, dst, ignore=shutil.ignore_patterns("targets"))
    return dst


def test_summaries_agree_with_the_outputs(demo_run):
    run, out = demo_run
    o = load_run_outputs(out)
    p = run.summary["plan"]
    assert int(o.by_week_channel.to_numpy().sum()) == p["touches"] == len(run.result.plan)
    assert o.by_week_channel.sum(axis=0).to_dict() == {k: v for k, v in p["by_channel"].items()}
    assert o.by_wave.to_dict() == {int(k): v for k, v in p["by_wave"].items()}
    assert o.suppressed_by_reason.to_dict() == p["suppressed_by_reason"]
    assert int(o.holdout_by_segment.sum()) == p["holdout"]
    assert list(o.segments["rank"]) == sorted(o.segments["rank"])
    cap = run.result.capacity
    phone = cap[(cap["resource"] == "channel") & (cap["name"] == "phone")].set_index("week_start")
    week = str(phone.index[0])
    assert o.channel_use.loc["phone", week] == pytest.approx(phone["used"].iloc[0] / phone["capacity"].iloc[0])
    assert 0 < len(o.rm_use) <= 25 and o.n_rms == cap[cap["resource"].isin(["rm", "pool"])]["name"].nunique()
    assert int(o.reasons["all"].sum()) == run.summary["targets"]
    # every RM row of capacity.csv is in exactly one band
    rm_rows = cap[cap["resource"].isin(["rm", "pool"])]
    per_week = rm_rows.groupby(rm_rows["week_start"].astype(str)).size()
    assert o.rm_bands.sum(axis=1).to_dict() == per_week.to_dict()
    assert list(o.rm_bands.columns) == ["idle", "1-25", "25-50", "50-75", "75-99", "full"]


@pytest.fixture(scope="module")
def en_files(demo_run):
    return render_report(demo_run[1], "en")


def test_the_report_is_self_contained_and_shows_every_section(demo_run, en_files):
    run, out = demo_run
    files = en_files
    page = files["report.html"].decode()
    assert sorted(files) == ["charts/calendar.png", "charts/capacity_channels.png", "charts/capacity_rm_load.png",
                             "charts/capacity_rms.png", "charts/dormancy.png", "charts/funnel.png", "charts/ranking.png",
                             "charts/suppressed.png", "report.html"]
    for section in ("overview", "profiles", "ranking", "calendar", "capacity", "quality", "uplift"):
        assert f'<section id="{section}">' in page
    # nothing to fetch: no scripts, stylesheets, fonts or remote URLs; every image is embedded
    assert not re.search(r"<script|<link|@import|url\(|https?://", page)
    srcs = re.findall(r'<img src="([^"]*)"', page)
    assert len(srcs) == 8 and all(s.startswith("data:image/png;base64,") for s in srcs)
    # a profile card per segment, with its name, and the book's numbers
    assert page.count('<article class="card">') == len(run.segments)
    for name in run.segments["segment_name"]:
        assert name.replace("·", "&middot;") in page or name in page
    assert f"<b>{run.summary['customers']:,}</b>" in page
    # which propensity source was used, with every candidate's figures on the held-out slice
    info = run.summary["scoring"]
    assert "<h3>Who will come back: the propensity source</h3>" in page
    for name, c in info["candidates"].items():
        if "auc" in c:
            assert f"<td class=num>{c['auc']:.3f}</td>" in page, name
    assert f"the {info['held_out']['rows']:,} " in page and info["held_out"]["from"] in page
    assert f"{info['decay']['per_week']:.1%} of the chance" in page
    # each card says what waiting a week costs
    assert page.count("<h4>urgency</h4>") == len(run.segments)
    assert all(html.escape(r) in page for r in run.segments["urgency_reason"])
    # counts only: no customer id reaches the report
    ids = pd.read_csv(out / "plan.csv", usecols=["customer_id"])["customer_id"]
    assert not any(cid in page for cid in ids.head(200))


def test_the_report_is_deterministic(demo_run, en_files):
    assert render_report(demo_run[1], "en") == en_files


def test_uplift_section_when_outcomes_exist(run_dir):
    assert "No outcomes recorded yet" in render_report(run_dir, "en")["report.html"].decode()
    (run_dir / "uplift.csv").write_text(
        "dimension,level,n_treated,n_holdout,rate_treated,rate_holdout,uplift,ci_low,ci_high\n"
        "segment,S01,900,100,0.12,0.05,0.07,0.02,0.12\n"
        "segment,S02,500,60,0.08,0.07,0.01,-0.05,0.07\n"
        "channel,phone,700,80,0.15,0.06,0.09,0.03,0.15\n")
    files = render_report(run_dir, "en")
    page = files["report.html"].decode()
    assert {"charts/uplift_channel.png", "charts/uplift_segment.png"} <= set(files)
    assert "No outcomes recorded yet" not in page
    assert "+7.0 pp" in page and "+2.0 … +12.0 pp" in page and "-5.0 … +7.0 pp" in page


def test_a_bad_uplift_file_is_one_clear_error(run_dir):
    (run_dir / "uplift.csv").write_text("dimension,level,n_treated\nsegment,S01,9\n")
    with pytest.raises(InputDataError, match=r"uplift.csv: missing column\(s\) n_holdout, rate_treated"):
        render_report(run_dir, "en")
    (run_dir / "uplift.csv").write_text(
        "dimension,level,n_treated,n_holdout,rate_treated,rate_holdout,uplift,ci_low,ci_high\n"
        "segment,S01,900,100,0.12,0.05,n/a,0.02,0.12\n")
    with pytest.raises(InputDataError, match=r"column uplift: 1 value\(s\) are not numbers \(first 'n/a'; rows 2\)"):
        render_report(run_dir, "en")


def test_not_a_plan_directory(tmp_path, run_dir):
    with pytest.raises(InputDataError, match="no such directory"):
        render_report(tmp_path / "nope", "en")
    (run_dir / "plan.csv").unlink()
    with pytest.raises(InputDataError, match=r"not the output of reactivate plan \(missing plan.csv\)"):
        render_report(run_dir, "en")


# -- Chinese --------------------------------------------------------------------------------------

def zh_texts() -> list[str]:
    """Every Chinese string the report and its charts can use."""
    return [*STRINGS["zh"].values(), *PHRASES_ZH.values(), *(zh for _, zh in FEATURES.values())]


def test_generated_names_are_translated_part_by_part():
    assert phrase("High balance · Older (2)", "zh") == "高余额 · 年长(2)"
    assert phrase("no contact in 12 months (76%); no digital channel (77%)", "zh") == "12个月未联系(76%)；无数字渠道(77%)"
    assert phrase("Maturing savers", "zh") == "Maturing savers"  # an analyst's own name is kept
    assert phrase("long_dormant", "en") == "long dormant"
    assert set(STRINGS["zh"]) == set(STRINGS["en"])


def test_the_chosen_font_covers_every_chinese_string():
    from reactivate.outputs import charts

    font = charts.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    assert charts.missing_glyphs(zh_texts(), font[1]) == set()
    # checked again with fontTools' own reading of the font's character map
    from fontTools.ttLib import TTCollection, TTFont

    path = font[1]
    fonts = TTCollection(path).fonts if path.lower().endswith(".ttc") else [TTFont(path)]
    face = next(f for f in fonts if f["name"].getBestFamilyName() == font[0])
    cmap = face.getBestCmap()
    assert {ch for s in zh_texts() for ch in s if not ch.isspace() and ord(ch) not in cmap} == set()


def test_a_chinese_report_draws_without_missing_glyphs(demo_run):
    from reactivate.outputs import charts

    if charts.cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    _, out = demo_run
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any "Glyph ... missing" warning fails
        files = render_report(out, "zh")
    page = files["report.html"].decode()
    assert '<html lang="zh-CN">' in page and t("report_title", "zh") in page and "客群画像" in page
    assert len([k for k in files if k.endswith(".png")]) == 8


# -- command line ---------------------------------------------------------------------------------

def test_report_command_writes_the_report_and_its_charts(run_dir, tmp_path):
    r = invoke("report", "--run", run_dir)
    assert r.exit_code == 0, r.output
    assert (run_dir / "report.html").is_file() and (run_dir / "charts" / "calendar.png").is_file()
    assert r.stderr == f"report written to {run_dir / 'report.html'} (charts in {run_dir / 'charts'}/)\n"
    out = tmp_path / "elsewhere" / "r.html"
    r = invoke("report", "--run", run_dir, "--out", out, "--quiet")
    assert r.exit_code == 0 and r.output == ""
    assert out.read_bytes() == (run_dir / "report.html").read_bytes()
    assert (out.parent / "charts" / "funnel.png").is_file()


def test_report_command_errors(tmp_path, run_dir):
    r = invoke("report", "--run", run_dir, "--lang", "fr")
    assert r.exit_code == 2 and r.stderr == "Error: --lang='fr' is not supported; use one of: en, zh\n"
    r = invoke("report", "--run", tmp_path / "missing")
    assert r.exit_code == 2
    assert r.stderr == f"Error: {tmp_path / 'missing'}: no such directory (give the --out directory of reactivate plan)\n"


def test_plan_writes_a_report_unless_told_not_to(demo_book, tmp_path):
    args = ["plan", "--as-of", "2026-11-30", "--accounts", demo_book / "accounts.csv", "--transactions",
            demo_book / "transactions.csv"]
    r = invoke(*args, "--out", tmp_path / "a", "--no-report", "--quiet")
    assert r.exit_code == 0 and r.output == ""
    assert not (tmp_path / "a" / "report.html").exists() and not (tmp_path / "a" / "charts").exists()
    r = invoke(*args, "--out", tmp_path / "b")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "b" / "report.html").is_file() and (tmp_path / "b" / "charts" / "ranking.png").is_file()
    assert "report.html" in r.stderr and "━" not in r.stderr  # no progress bar when not on a terminal
    # the report in the plan's outputs is the one `reactivate report` builds from them
    assert render_report(tmp_path / "b", "en")["report.html"] == (tmp_path / "b" / "report.html").read_bytes()


def test_progress_bar_only_on_a_terminal_and_not_when_quiet(monkeypatch):
    import sys

    from reactivate.cli.progress import bar

    with bar("plan", ["a", "b"]) as step:
        assert step is None  # pytest's stderr is not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with bar("plan", ["a", "b"], quiet=True) as step:
        assert step is None
    with bar("plan", ["a", "b"]) as step:
        assert callable(step)
        step("a")
        step("chart x")
        step("b")


def test_report_help_has_an_example():
    r = invoke("report", "--help")
    assert r.exit_code == 0 and "Example:" in r.stdout and "reactivate report --run" in r.stdout


def test_a_plan_without_touches_or_suppressions_still_renders(run_dir):
    for name in ("plan.csv", "suppressed.csv"):
        header = (run_dir / name).read_text().splitlines()[0]
        (run_dir / name).write_text(header + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        o = load_run_outputs(run_dir)
        files = render_report(run_dir, "en")
    # the calendar still has every week of the campaign, with no touch in any
    assert len(o.by_week_channel) == 12 and int(o.by_week_channel.to_numpy().sum()) == 0
    assert o.suppressed_by_reason.empty and o.by_wave.empty
    assert "charts/calendar.png" in files and "charts/suppressed.png" in files


def test_uplift_from_reactivate_evaluate_via_the_option(run_dir, tmp_path):
    """evaluate names the columns value/n_control/rate_control and leaves groups without data empty."""
    ev = tmp_path / "eval" / "uplift.csv"
    ev.parent.mkdir()
    ev.write_text(
        "dimension,value,n_treated,n_control,reactivated_treated,reactivated_control,rate_treated,rate_control,"
        "uplift,ci_low,ci_high\n"
        "overall,all,1000,120,110,6,0.11,0.05,0.06,0.02,0.09\n"
        "channel,phone,400,0,50,0,0.125,,,,\n")
    r = invoke("report", "--run", run_dir, "--uplift", ev, "--quiet")
    assert r.exit_code == 0, r.output
    page = (run_dir / "report.html").read_text()
    assert "+6.0 pp" in page and "+2.0 … +9.0 pp" in page and "<td class=num>–</td>" in page
    assert (run_dir / "charts" / "uplift_overall.png").is_file() and (run_dir / "charts" / "uplift_channel.png").is_file()
    r = invoke("report", "--run", run_dir, "--uplift", tmp_path / "none.csv")
    assert r.exit_code == 2
    assert r.stderr == (f"Error: {tmp_path / 'none.csv'}: no such file "
                        "(give an uplift.csv written by reactivate evaluate)\n")


def test_reasons_are_grouped_by_their_dated_event(tmp_path):
    from reactivate.outputs.report.data import reason_events

    (tmp_path / "scores.csv").write_text(
        "priority_rank,reason\n1,deposit matures 2027-01-15\n2,becomes inoperative 2027-02-01\n"
        "3,3 years with the bank on 2026-12-20\n4,salary credited around day 25 of the month\n"
        "5,birthday week\n6,no dated event: as early as capacity allows\n"
        "7,no dated event: as early as capacity allows\n8,1 year with the bank on 2027-01-02\n"
        "9,birthday week\n10,birthday week\n11,birthday week\n")
    r = reason_events(tmp_path / "scores.csv").set_index("event")
    assert r["all"].to_dict() == {"birthday": 4, "anniversary": 2, "none": 2, "deadline": 1, "maturity": 1,
                                  "payday": 1}
    assert r["top_decile"].to_dict() == {"birthday": 0, "anniversary": 0, "none": 0, "deadline": 1, "maturity": 1,
                                         "payday": 0}
