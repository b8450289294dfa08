"""One self-contained HTML report from a run's summaries: charts as embedded PNG, inline CSS, no scripts.

:func:`render_report` returns the files of a report (``report.html`` and
``charts/*.png``) as bytes; :func:`build_report` writes them. Nothing in the
page is fetched from anywhere: it opens from a USB stick on a branch PC.
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from reactivate import __version__
from reactivate.errors import ConfigError, OutputError
from reactivate.outputs import charts
from reactivate.outputs.i18n import check_lang, feature, phrase, t, wave_name
from reactivate.outputs.report.data import RunOutputs, load_run_outputs, start_reason, traits
from reactivate.outputs.workers import put

Progress = Callable[[str], None] | None


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _n(v) -> str:
    return f"{int(v):,}"


def _pct(v) -> str:
    return f"{float(v):.0%}" if float(v) >= 0.01 or float(v) == 0 else f"{float(v):.1%}"


def _z(v) -> float:
    return 0.0 if v != v else v  # NaN -> 0


def _pp(v, scale: float, unit: str, sign: bool = False) -> str:
    """A rate or difference for a table; "–" for a group without data (NaN)."""
    if v != v:
        return "–"
    return f"{v * scale:{'+' if sign else ''}.1f}{unit}"


def _charts(o: RunOutputs, lang: str, progress: Progress) -> dict[str, bytes]:
    """Every chart of the report as PNG bytes, by file stem."""

    s = o.summary
    p = s["plan"]
    stages = ["active", "at_risk", "dormant", "long_dormant"]
    by_stage = pd.Series(s["by_stage"]).reindex(
        [x for x in stages if x in s["by_stage"]] + sorted(set(s["by_stage"]) - set(stages))).fillna(0)
    targeted = o.run.get("campaign", {}).get("dormancy", {}).get("target_stages", ["dormant", "long_dormant"])
    eligible = p["targets"] - p["suppressed"]
    funnel = pd.Series({"funnel_dormant": p["targets"], "funnel_eligible": eligible,
                        "funnel_planned": p["scheduled"], "funnel_holdout": p["holdout"],
                        "funnel_unscheduled": p["unscheduled"]})
    jobs = [
        ("dormancy", lambda: charts.dormancy_stages(by_stage, targeted, lang)),
        ("suppressed", lambda: charts.suppressed_by_reason(o.suppressed_by_reason, lang)),
        ("funnel", lambda: charts.funnel(funnel, lang)),
        ("ranking", lambda: charts.ranking(o.segments, lang)),
        ("calendar", lambda: charts.calendar(o.by_week_channel, lang)),
    ]
    if not o.channel_use.empty:
        jobs.append(("capacity_channels", lambda: charts.capacity_heatmap(
            o.channel_use, t("capacity_channel_title", lang), t("capacity_y_channel", lang), lang)))
    if not o.rm_use.empty:
        title = (t("capacity_rm_title", lang, n=len(o.rm_use)) if o.n_rms > len(o.rm_use)
                 else t("capacity_rm_title_all", lang))
        jobs.append(("capacity_rms", lambda: charts.capacity_heatmap(
            o.rm_use, title, t("capacity_y_rm", lang), lang)))
    if len(o.rm_bands):
        jobs.append(("capacity_rm_load", lambda: charts.rm_load(o.rm_bands, lang)))
    if o.uplift is not None:
        for dim, g in _uplift_named(o, lang).groupby("dimension", sort=True):
            jobs.append((f"uplift_{_slug(dim)}", lambda g=g, dim=dim: charts.uplift(g, dim, lang)))
    out = {}
    with charts.style(lang), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, draw in jobs:
            out[name] = charts.to_png(draw())
            if progress:
                progress(f"chart {name}")
    glyphs = sorted({str(w.message) for w in caught if "Glyph" in str(w.message)})
    if glyphs:
        raise OutputError(f"the {lang} charts lack glyphs in the chosen font: {glyphs[0]} "
                          f"({len(glyphs)} warning(s))")
    return out


def _uplift_named(o: RunOutputs, lang: str) -> pd.DataFrame:
    """The uplift table with segment ids shown as "S01 name" (the segment's name in ``lang``)."""
    names = {sid: f"{sid} {phrase(n, lang)}" for sid, n in zip(o.segments["segment_id"], o.segments["segment_name"],
                                                                strict=True)}
    u = o.uplift.copy()
    seg = (u["dimension"] == "segment").to_numpy()
    u.loc[seg, "level"] = u.loc[seg, "level"].map(lambda v: names.get(v, v))
    return u


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in str(text)).strip("_") or "x"


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _table(header: list[str], rows: list[list], num: set[int] = frozenset()) -> str:
    head = "".join(f'<th{" class=num" if i in num else ""}>{_e(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in num else ""}>{_e(c)}</td>' for i, c in enumerate(r)) + "</tr>"
        for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _scoring_block(info: dict, lang: str) -> str:
    """Which propensity source was used, every candidate's figures on the held-out slice, and the decay."""
    if not info:
        return ""
    cand = info.get("candidates", {})
    rows = []
    for name in SOURCES_SHOWN:
        c = cand.get(name)
        if not c or "auc" not in c:
            continue
        lift = c.get("top_decile_lift")
        rows.append([t(f"src_{name}", lang), f"{c['auc']:.3f}", "" if lift is None else f"{lift:.2f}",
                     "✓" if info.get("source") == name else ""])
    held = info.get("held_out")
    lines = [f"<h3>{_e(t('scoring_title', lang))}</h3>"]
    if held and rows:
        kind = "contacts" if held.get("kind") == "contacts" else "snapshot"
        lines.append(f"<p>{_e(t('scoring_slice_' + kind, lang, rows=int(held['rows']), day=held['from']))}</p>")
        lines.append(_table([t("scoring_source", lang), t("scoring_auc", lang), t("scoring_lift", lang),
                             t("scoring_used", lang)], rows, num={1, 2}))
    else:
        src = info.get("source", "prior")
        lines.append(f"<p>{_e(t(f'src_{src}', lang) if src in SOURCES_SHOWN else info.get('note', ''))}. "
                     f"{_e(t('scoring_none', lang))}</p>")
    cal = (info.get("calibration") or {}).get("held_out")
    if cal and cal.get("brier") is not None:
        lines.append("<p>" + _e(t("scoring_calibration", lang, mean=cal["mean_predicted"], observed=cal["observed"],
                                  brier=cal["brier"], ece=cal["ece"])) + "</p>")
    decay = info.get("decay")
    if decay:
        text = t("scoring_decay", lang, per_week=decay["per_week"], source=t("src_" + decay["source"], lang))
        lines.append(f"<p>{_e(text)}</p>")
    return "".join(lines)


SOURCES_SHOWN = ("campaigns", "backtest", "bgnbd", "prior", "recency", "freq/recency", "blend")


def _share(v) -> float | None:
    """A share read from segments.csv (a number, or text when the column has empty cells); None when empty."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    v = float(v)
    return None if v != v else v


def _card(r, lang: str, channels: list[str]) -> str:
    name = phrase(r.segment_name, lang)
    kind = t(f"kind_{r.kind}", lang) if r.kind in ("carve-out", "cluster") else str(r.kind)
    chips = "".join(
        f'<span class="chip {"up" if z > 0 else "down"}">{_e(feature(f, lang))} {z:+.1f}σ</span>'
        for f, z in traits(r.apart))
    if not chips and r.apart:
        apart = str(r.apart)
        if apart.startswith("rule: "):
            apart = f'{t("rule", lang)}: {apart[6:]}'
        chips = f'<span class="chip">{_e(apart)}</span>'
    short = [phrase(x, lang) for x in str(r.shortfalls).split("; ") if x]
    shares = {ch: _share(getattr(r, f"reach_{ch}", None)) for ch in channels}
    reach = "".join(  # a channel nothing in the book says anything about (an empty reach) is not shown
        f'<div class="reach"><span>{_e(phrase(ch, lang))}</span><span class="bar">'
        f'<i style="width:{min(max(v, 0), 1) * 100:.0f}%"></i></span><span class="num">{_pct(v)}</span></div>'
        for ch, v in shares.items() if v is not None)
    why = t("rank_why", lang, exp=r.expected_reactivations, value=r.expected_value, size=int(r.size))
    note = f'<p class="note">{_e(t("note", lang))}: {_e(r.note)}</p>' if str(getattr(r, "note", "")) else ""
    u = getattr(r, "urgency", None)
    urgency = "" if u is None or pd.isna(u) else (
        f'<h4>{_e(t("urgency", lang))}</h4><p>'
        + _e(str(r.urgency_reason) if lang == "en" and str(getattr(r, "urgency_reason", "")) else
             t("urgency_why", lang, value=float(u))) + "</p>")
    return f"""<article class="card">
<header><span class="rank">#{int(r.rank)}</span><h3>{_e(name)}</h3><span class="badge">{_e(r.segment_id)} · {_e(kind)}</span></header>
<div class="stats"><div><b>{_n(r.size)}</b><small>{_e(t("size", lang))} ({_pct(r.share)})</small></div>
<div><b>{r.expected_reactivations:,.0f}</b><small>{_e(t("expected", lang))}</small></div>
<div><b>{r.expected_value:,.0f}</b><small>{_e(t("expected_value", lang))}</small></div>
<div><b>{_pct(r.mean_p)}</b><small>{_e(t("mean_p", lang))}</small></div></div>
<h4>{_e(t("traits", lang))}</h4><div class="chips">{chips}</div>
<h4>{_e(t("shortfalls", lang))}</h4><ul>{"".join(f"<li>{_e(x)}</li>" for x in short)}</ul>
<h4>{_e(t("best_timing", lang))}</h4><p>{_e(r.start_week)}: {_e(start_reason(r.start_reason, lang))}</p>
<h4>{_e(t("ranking_reason", lang))}</h4><p>{_e(why)}</p>{urgency}
<div class="reachbox">{reach}</div>{note}
</article>"""


CSS = """
:root{--ink:#1d2b36;--muted:#5b6b78;--line:#e3e8ec;--accent:#1f5f8b;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
color:var(--ink);background:var(--bg);line-height:1.5;font-size:15px}
header.top{background:var(--accent);color:#fff;padding:28px 40px 22px}
header.top h1{margin:0 0 4px;font-size:28px}header.top p{margin:0;opacity:.85}
nav{background:#fff;border-bottom:1px solid var(--line);padding:10px 40px;position:sticky;top:0;z-index:2}
nav a{color:var(--accent);text-decoration:none;margin-right:18px;font-size:14px}
main{max-width:1180px;margin:0 auto;padding:8px 40px 40px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 24px;margin:22px 0}
h2{margin:0 0 12px;font-size:21px;border-bottom:2px solid var(--accent);padding-bottom:6px;display:inline-block}
h3{margin:0;font-size:16px}h4{margin:12px 0 4px;font-size:13px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:12px;margin:18px 0 0}
.kpi{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.kpi b{display:block;font-size:24px;color:var(--accent)}.kpi small{color:var(--muted)}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:16px;align-items:start}
img{max-width:100%;height:auto;display:block;margin:8px 0}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:8px 0}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:14px 16px;background:#fff}
.card header{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap}
.rank{background:var(--accent);color:#fff;border-radius:12px;padding:0 9px;font-weight:700;font-size:13px}
.badge{color:var(--muted);font-size:12px}
.stats{display:grid;grid-template-columns:repeat(4,1fr);gap:6px;margin:10px 0 0}
.stats b{display:block;font-size:16px}.stats small{color:var(--muted);font-size:11.5px}
.chips{display:flex;flex-wrap:wrap;gap:5px}.chip{border-radius:10px;padding:1px 8px;font-size:12.5px;background:#eef2f5}
.chip.up{background:#e2efe6}.chip.down{background:#f7e5e0}
ul{margin:2px 0;padding-left:18px}p{margin:4px 0}.card p,.card li{font-size:13.5px}
.reachbox{margin-top:10px;display:grid;grid-template-columns:1fr 1fr;gap:2px 14px}
.reach{display:grid;grid-template-columns:92px 1fr 40px;gap:6px;align-items:center;font-size:12px}
.bar{background:#eef2f5;height:8px;border-radius:4px;overflow:hidden}.bar i{display:block;height:100%;background:var(--accent)}
.note{color:var(--muted);font-style:italic}.muted{color:var(--muted)}
.alert{border-left:4px solid #b3541e;background:#fbefe6;padding:10px 14px;margin:0 0 14px;border-radius:4px}
.alert code{font-size:13px;background:#fff;padding:1px 4px;border-radius:3px}
footer{color:var(--muted);font-size:12.5px;text-align:center;padding:12px 0 30px}
"""


def render_html(o: RunOutputs, pngs: dict[str, bytes], lang: str = "en") -> str:
    """The report page, with the charts of :func:`_charts` embedded."""
    s, p = o.summary, o.summary["plan"]
    run = o.run
    weeks = len(o.by_week_channel.index)
    kpis = [(s["customers"], t("book_size", lang)), (s["targets"], t("targets", lang)),
            (p["touches"], f'{t("touches", lang)} · {weeks} {t("weeks", lang)}'),
            (len(o.segments), t("segments_n", lang)), (p["suppressed"], t("suppressed_n", lang)),
            (p["holdout"], t("holdout_n", lang)), (p["unscheduled"], t("unscheduled_n", lang))]
    kpi_html = "".join(f'<div class="kpi"><b>{_n(v)}</b><small>{_e(label)}</small></div>' for v, label in kpis)
    sections = [("overview", t("overview", lang)), ("profiles", t("profiles", lang)),
                ("ranking", t("ranking", lang)), ("calendar", t("calendar", lang)),
                ("capacity", t("capacity", lang)), ("quality", t("quality", lang)), ("uplift", t("uplift", lang))]
    nav = "".join(f'<a href="#{k}">{_e(v)}</a>' for k, v in sections)
    body = "".join(section(o, pngs, lang) for section in (_overview_section, _profiles_section, _ranking_section,
                                                          _calendar_section, _capacity_section, _quality_section,
                                                          _uplift_section))
    title = t("report_title", lang)
    sub = t("report_subtitle", lang, as_of=run.get("as_of", ""), version=run.get("version", __version__),
            seed=run.get("seed", ""))
    footer = t("footer", lang, version=run.get("version", __version__), as_of=run.get("as_of", ""))
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} · {_e(run.get("as_of", ""))}</title><style>{CSS}</style></head>
<body><header class="top"><h1>{_e(title)}</h1><p>{_e(sub)}</p></header>
<nav>{nav}</nav><main><div class="kpis">{kpi_html}</div>
{body}</main>
<footer>{_e(footer)}</footer></body></html>
"""


def _overview_section(o: RunOutputs, pngs: dict[str, bytes], lang: str) -> str:
    """Overview: dormancy stages, suppressed customers, the funnel and why customers went unscheduled."""
    total_unsch = max(int(o.unscheduled_by_reason.sum()), 1)
    unsch_table = _table([t("reason", lang), t("customers", lang), t("share", lang)],
                         [[phrase(k, lang), _n(v), _pct(v / total_unsch)] for k, v in o.unscheduled_by_reason.items()],
                         num={1, 2}) if len(o.unscheduled_by_reason) else ""
    return f"""<section id="overview"><h2>{_e(t("overview", lang))}</h2>{_cannot_contact_block(o.summary, lang)}
<div class="grid2"><div>{_img(pngs.get("dormancy"), t("dormancy_title", lang))}</div>
<div>{_img(pngs.get("suppressed"), t("suppressed_title", lang))}</div></div>
<div class="grid2"><div>{_img(pngs.get("funnel"), t("funnel_title", lang))}</div>
<div><h4>{_e(t("unscheduled_n", lang))}</h4>{unsch_table}</div></div></section>"""


def _cannot_contact_block(summary: dict, lang: str) -> str:
    """Why most targets cannot be contacted and what to set (summary.json's ``cannot_contact``), or ""."""
    d = summary.get("cannot_contact")
    if not d:
        return ""
    sep, gap = ("、", "") if lang == "zh" else (" and ", " ")  # between channel names, between sentences

    def names(chs) -> str:
        return sep.join(phrase(ch, lang) for ch in chs)

    who = (t("cc_nobody", lang) if d["customers"] == d["targets"]
           else t("cc_some", lang, n=int(d["customers"]), of=int(d["targets"])))
    if d["cause"] == "unscheduled":
        text = _e(t("cc_unscheduled", lang, n=int(d["customers"]), top_n=int(d["reason_customers"]),
                    top=phrase(d["reason"], lang)))
    elif d["cause"] == "no_consent":
        text = _e(t("cc_no_consent", lang, who=who))
    else:
        where = t("cc_where_no_columns" if d["accounts"] else "cc_where_no_accounts", lang)
        text = _e(t("cc_no_columns", lang, who=who, where=where,
                    assumed=names(d["assumed"]) or t("cc_assumed_none", lang)))
        fix = _e(t("cc_fix", lang, channels=names(d["channels"]), set="SPEC_LINE"))  # the line set in code
        text += gap + fix.replace("SPEC_LINE", f"<code>{_e(d['set'])}</code>")
        if d["off"]:
            text += gap + _e(t("cc_off", lang, channels=names(d["off"])))
    return f'<div class="alert"><h3>{_e(t("cc_title", lang))}</h3><p>{text}</p></div>'


def _holdout_power_block(o: RunOutputs, lang: str) -> str:
    """Per segment: the holdout, the uplift it can detect against the expected one, and the share it needs."""
    rows = o.summary.get("plan", {}).get("holdout_mde", [])
    if not rows:
        return ""
    names = dict(zip(o.segments["segment_id"].astype(str), o.segments["segment_name"], strict=True))
    baseline = o.run.get("campaign", {}).get("holdout", {}).get("baseline_share", 0.5)
    body = [[f"{m['segment_id']} {phrase(names.get(m['segment_id'], ''), lang)}".strip(), _n(m["treated"]),
             _n(m["holdout"]), _pp(m["expected_rate"], 100, "%"), _pp(m["expected_uplift"], 100, " pp"),
             "–" if m.get("mde") is None else _pp(m["mde"], 100, " pp"),
             _pct(m["share_needed"]) if m.get("share_needed") else t("not_at_half", lang),
             t("no" if m.get("warning") else "yes", lang)] for m in rows]
    table = _table([t("segment", lang), t("treated", lang), t("holdout", lang), t("expected_rate", lang),
                    t("expected_uplift", lang), t("mde", lang), t("share_needed", lang), t("measurable", lang)],
                   body, num={1, 2, 3, 4, 5, 6})
    return (f'<h3>{_e(t("holdout_power", lang))}</h3><p class="muted">'
            f'{_e(t("holdout_power_intro", lang, baseline=float(baseline)))}</p>{table}')


def _profiles_section(o: RunOutputs, pngs: dict[str, bytes], lang: str) -> str:
    """Profiles: one card per segment (see :func:`_card`)."""
    channels = list(o.summary.get("channels", []))
    cards = "".join(_card(r, lang, channels) for r in o.segments.itertuples(index=False))  # one per segment
    return f'<section id="profiles"><h2>{_e(t("profiles", lang))}</h2><div class="cards">{cards}</div></section>'


def _ranking_section(o: RunOutputs, pngs: dict[str, bytes], lang: str) -> str:
    """Ranking: the segments by expected value with why and when, and the reasons behind the top decile."""
    rank_rows = [[f"#{int(r.rank)}", f"{r.segment_id} {phrase(r.segment_name, lang)}", _n(r.size),
                  t("rank_why", lang, exp=r.expected_reactivations, value=r.expected_value, size=int(r.size)),
                  r.start_week] for r in o.segments.itertuples(index=False)]
    rank_table = _table([t("rank", lang), t("segment", lang), t("size", lang), t("ranking_reason", lang),
                         t("start_week", lang)], rank_rows, num={2})
    reasons = ""
    if len(o.reasons):
        top_total = max(int(o.reasons["top_decile"].sum()), 1)
        all_total = max(int(o.reasons["all"].sum()), 1)
        reasons = f'<h4>{_e(t("top_reasons", lang))}</h4>' + _table(
            [t("reason", lang), t("top10", lang), t("share", lang), t("customers", lang), t("share", lang)],
            [[phrase(r.event, lang) if r.event != "none" else phrase("no dated event", lang), _n(r.top_decile),
              _pct(r.top_decile / top_total), _n(r.all), _pct(r.all / all_total)]
             for r in o.reasons.itertuples(index=False)], num={1, 2, 3, 4})
    return f"""<section id="ranking"><h2>{_e(t("ranking", lang))}</h2>
{_img(pngs.get("ranking"), t("ranking_title", lang))}{rank_table}{reasons}</section>"""


def _calendar_section(o: RunOutputs, pngs: dict[str, bytes], lang: str) -> str:
    """Calendar: touches per week by channel, and per wave."""
    waves = _table([t("wave", lang), t("touches", lang)],
                   [[wave_name(int(w), lang), _n(v)] for w, v in o.by_wave.items()], num={1})
    return f"""<section id="calendar"><h2>{_e(t("calendar", lang))}</h2>
{_img(pngs.get("calendar"), t("calendar_title", lang))}<h4>{_e(t("waves_table", lang))}</h4>{waves}</section>"""


def _capacity_section(o: RunOutputs, pngs: dict[str, bytes], lang: str) -> str:
    """Capacity: the share used of each channel and of the RMs' calls."""
    use = o.summary.get("capacity_use", {})
    ch_rows = [[phrase(k, lang), _n(v["used"]), _n(v["capacity"]), _pct(v["share"]), _pct(v["peak_week_share"])]
               for k, v in use.get("channels", {}).items()]
    ch_table = _table([t("channel", lang), t("touches", lang), t("capacity_col", lang), t("share", lang),
                       t("peak_week", lang)],
                      ch_rows, num={1, 2, 3, 4})
    rmu = use.get("rm_calls", {})
    rm_line = (t("rm_summary", lang, calls=rmu.get("calls", 0), full=rmu.get("rm_weeks_at_capacity", 0),
                 max=rmu.get("max_share", 0)) + f" · {_n(o.n_rms)} {t('rm', lang)}") if rmu else ""
    return f"""<section id="capacity"><h2>{_e(t("capacity", lang))}</h2>
{_img(pngs.get("capacity_channels"), t("capacity_channel_title", lang))}{ch_table}
{_img(pngs.get("capacity_rm_load"), t("rm_load_title", lang))}<p>{_e(rm_line)}</p>
{_img(pngs.get("capacity_rms"), t("capacity_rm_title_all", lang))}</section>"""


def _quality_section(o: RunOutputs, pngs: dict[str, bytes], lang: str) -> str:
    """Data quality: the run's notes, the input files, the scoring method and the choice of segments."""
    s = o.summary
    notes = s.get("notes", [])
    notes_html = ("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>") if notes else \
        f'<p class="muted">{_e(t("quality_none", lang))}</p>'
    inputs = o.run.get("inputs", {})
    in_table = _table([t("inputs", lang), t("file", lang), t("rows", lang)],
                      [[k, os.path.basename(str(v.get("path", ""))), _n(v.get("rows", 0))]
                       for k, v in sorted(inputs.items())], num={2})
    k_reason = s.get("k_choice", {}).get("reason", "")
    drift = s.get("segments_drift", {}).get("reason", "")
    extra = _scoring_block(s.get("scoring", {}), lang) + "".join(f"<p>{_e(x)}</p>" for x in (k_reason, drift) if x)
    return f"""<section id="quality"><h2>{_e(t("quality", lang))}</h2>{notes_html}{in_table}{extra}</section>"""


def _uplift_section(o: RunOutputs, pngs: dict[str, bytes], lang: str) -> str:
    """Uplift against the holdout, one chart and table per dimension (when the run has an uplift table)."""
    if o.uplift is None:
        up_body = f'<p class="muted">{_e(t("uplift_none", lang))}</p>'
    else:
        parts = []
        for dim, g in _uplift_named(o, lang).groupby("dimension", sort=True):
            rows = [[phrase(r.level, lang), _n(_z(r.n_treated)), _n(_z(r.n_holdout)), _pp(r.rate_treated, 100, "%"),
                     _pp(r.rate_holdout, 100, "%"), _pp(r.uplift, 100, " pp", sign=True),
                     f"{_pp(r.ci_low, 100, '', sign=True)} … {_pp(r.ci_high, 100, ' pp', sign=True)}"]
                    for r in g.itertuples(index=False)]
            parts.append(_img(pngs.get(f"uplift_{_slug(dim)}"), t("uplift_title", lang, dimension=phrase(dim, lang)))
                         + _table([t("level", lang), t("treated", lang), t("holdout", lang), t("rate_treated", lang),
                                   t("rate_holdout", lang), t("uplift_col", lang), t("ci", lang)],
                                  rows, num={1, 2, 3, 4, 5, 6}))
        up_body = "".join(parts)
    return f'<section id="uplift"><h2>{_e(t("uplift", lang))}</h2>{up_body}{_holdout_power_block(o, lang)}</section>'


def check_fonts(lang: str) -> None:
    """Raise :class:`OutputError` when the charts of ``lang`` cannot be drawn (no Chinese font)."""

    with charts.style(lang):
        pass


def render_report(run_dir: str | Path, lang: str = "en", progress: Progress = None,
                  uplift: str | Path | None = None, given: dict[str, dict] | None = None) -> dict[str, bytes]:
    """The files of the report of ``run_dir``: ``report.html`` and ``charts/<name>.png``.

    ``uplift``: an uplift table to show (default ``run_dir/uplift.csv`` if present). ``given``: columns of
    the large outputs as they were just written (see :func:`~reactivate.outputs.report.data.load_run_outputs`).

    Raises
    ------
    InputDataError
        ``run_dir`` does not hold the outputs of ``reactivate plan``.
    ConfigError
        ``lang`` is not supported.
    OutputError
        ``lang="zh"`` and no installed font has Chinese glyphs.
    """
    check_lang(lang)
    o = load_run_outputs(run_dir, uplift, given)
    if progress:  # each step is reported as it ends
        progress("read outputs")
    pngs = _charts(o, lang, progress)
    files = {"report.html": render_html(o, pngs, lang).encode("utf-8")}
    if progress:
        progress("write html")
    files.update({f"charts/{k}.png": v for k, v in sorted(pngs.items())})
    return files


def stage_report(root: str, lang: str, given: dict[str, dict] | None, out: str) -> list[str]:
    """:func:`render_report` of the staging folder ``root`` (with ``given``), its files written into it
    (what a pool's worker does: the bytes never travel back; ``out``, the outputs folder, names a file in an
    error). Returns the steps :func:`render_report` reported, in order, for the caller's progress."""
    steps: list[str] = []
    files = render_report(root, lang, steps.append, given=given)
    for rel, data in files.items():  # the page and its charts
        put(root, rel, data, out)
    return steps


def build_report(run_dir: str | Path, lang: str = "en", out: str | Path | None = None,
                 progress: Progress = None, uplift: str | Path | None = None) -> Path:
    """Write the report of ``run_dir`` to ``out`` (default ``run_dir/report.html``) and its charts
    beside it in ``charts/``; returns the path of the HTML file.

    Every file is written to a temporary name first and renamed into place
    once all are written, so a failure leaves the previous report as it was.
    A report (or a chart beside it) that would overwrite a file it reads (a ``.csv`` or ``.json`` of
    ``run_dir``, the ``uplift`` table) is refused with :class:`ConfigError`.
    """
    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    check_report_target([target], run_dir, uplift)
    files = render_report(run_dir, lang, progress, uplift)
    base = target.parent
    names = {"report.html": target, **{k: base / k for k in files if k != "report.html"}}
    check_report_target(list(names.values()), run_dir, uplift)
    tmp = []
    try:
        (base / "charts").mkdir(parents=True, exist_ok=True)
        for key, path in names.items():
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(files[key])
            tmp.append((name, path))
        mask = os.umask(0)
        os.umask(mask)
        for name, path in tmp:
            os.chmod(name, 0o666 & ~mask)  # mkstemp makes files private; a report is meant to be shared
            os.replace(name, path)
    except OSError as exc:
        for name, _ in tmp:
            if os.path.exists(name):
                os.unlink(name)
        raise OutputError(f"{target}: cannot write the report ({exc.strerror})") from None
    return target


def check_report_target(targets: list[Path], run_dir: str | Path, uplift: str | Path | None = None) -> None:
    """Refuse report files that are inputs of the report: a ``.csv`` or ``.json`` file of ``run_dir``, or
    the ``uplift`` table (:class:`ConfigError`, exit 2)."""
    run = Path(run_dir)
    inputs = {("--uplift", Path(uplift))} if uplift is not None else set()
    if run.is_dir():
        inputs |= {("--run", p) for p in run.iterdir() if p.suffix in (".csv", ".json")}
    read = {p.resolve(): (label, p) for label, p in inputs}
    for target in targets:  # the report and its charts
        if target.resolve() in read:
            label, path = read[target.resolve()]
            raise ConfigError(f"--out {target} is the input {path} ({label}): the report would overwrite it; "
                              "choose another --out")


__all__ = ["build_report", "check_fonts", "check_report_target", "render_html", "render_report", "stage_report"]
