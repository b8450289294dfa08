"""Charts. The only module that imports matplotlib; each function takes ``ax=None`` and returns the Axes.

The report's charts take small summary tables (counts per week, shares per
RM), never one row per customer, and a ``lang`` ("en" or "zh") for their
titles and labels. Chinese needs a font with CJK glyphs: wrap the drawing in
:func:`style` (``with style("zh"): ...``), which picks one through
matplotlib's font manager (:func:`cjk_font`).

The charts of an evaluation (:func:`uplift_chart`, :func:`uplift_at_k_chart`,
:func:`arms_chart`) take the tables of :mod:`reactivate.loop.evaluate` and are in English;
:func:`to_png` (or :func:`figure_bytes`) turns any of them into PNG bytes.
"""

from __future__ import annotations

import contextlib
import functools
import warnings

import numpy as np
import pandas as pd

from reactivate.errors import OutputError
from reactivate.outputs.i18n import phrase, t

# one colour per channel, the same in every chart
CHANNEL_COLORS = {
    "phone": "#1f5f8b", "sms": "#4c9bd6", "wechat": "#2ca25f", "email": "#8e6bbf",
    "app": "#f0a23b", "branch": "#c8553d", "mail": "#8c8c8c",
}
ACCENT = "#1f5f8b"
MUTED = "#9fb7c9"
WARN = "#c8553d"
# CJK fonts in order of preference (Debian's fonts-noto-cjk first)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
                "Heiti SC", "Noto Serif CJK SC")


def _pyplot():
    """``matplotlib.pyplot`` on the Agg backend.

    matplotlib before 3.11 calls pyparsing's camelCase names, which pyparsing 3.3 deprecates; importing
    pyplot reads matplotlib's own style files while recording warnings and logs each one to stderr
    ("In .../classic.mplstyle: 'parseString' deprecated"), noise that would also break ``--log-json``.
    Those warnings are ignored while pyplot is imported (nothing is changed outside this import).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"'\w+' deprecated - use '\w+'", DeprecationWarning)
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    return plt


def _axes(ax, size=(7, 4)):
    if ax is not None:
        return ax
    plt = _pyplot()
    _, ax = plt.subplots(figsize=size, dpi=110)
    return ax


def segment_sizes(segments: pd.DataFrame, ax=None):
    """Customers per segment, in rank order (rank 1 on top)."""
    t = segments.sort_values("rank", ascending=False, kind="stable")
    ax = _axes(ax, (8, 0.45 * len(t) + 1.5))
    labels = [f"{sid}  {name}" for sid, name in zip(t["segment_id"], t["segment_name"], strict=True)]
    ax.barh(labels, t["size"], color="#4C72B0")
    for y, v in enumerate(t["size"]):
        ax.annotate(f"{v:,}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlabel("customers")
    ax.set_title("Segment sizes (top: rank 1)")
    ax.tick_params(axis="y", labelsize=8)
    return ax


def trait_heatmap(traits: pd.DataFrame, names: pd.Series | None = None, ax=None):
    """Mean z-score of each feature per segment: what sets each segment apart."""
    ax = _axes(ax, (1.0 + 0.8 * traits.shape[1], 0.5 * len(traits) + 2))
    values = traits.to_numpy(dtype=float)
    im = ax.imshow(values, cmap="RdBu_r", vmin=-2, vmax=2, aspect="auto")
    ax.set_xticks(range(traits.shape[1]), traits.columns, rotation=45, ha="right", fontsize=8)
    rows = [f"{sid} {names.get(sid, '')}"[:55] if names is not None else str(sid) for sid in traits.index]
    ax.set_yticks(range(len(traits)), rows, fontsize=8)
    for (i, j), v in pd.DataFrame(values).stack().items():
        ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=7)
    ax.figure.colorbar(im, ax=ax, label="mean z-score")
    ax.set_title("What sets each segment apart")
    return ax


def k_scores(table: pd.DataFrame, chosen: int, ax=None):
    """Silhouette and bootstrap stability per k, the chosen k marked."""
    ax = _axes(ax)
    ax.plot(table["k"], table["silhouette"], marker="o", label="silhouette (higher is better)")
    ax.plot(table["k"], table["stability"], marker="s", label="stability, bootstrap ARI")
    ax.axvline(chosen, color="grey", linestyle="--", label=f"chosen k = {chosen}")
    ax.set_xlabel("number of segments k")
    ax.set_ylabel("score")
    ax.set_title("Choosing the number of segments")
    ax.set_xticks(list(table["k"]))
    ax.set_ylim(min(0.0, float(table["silhouette"].min()) - 0.05), 1.05)
    ax.legend(loc="lower left", fontsize=8)
    return ax


def to_png(ax) -> bytes:
    """The figure of ``ax`` as PNG bytes (no timestamp: same data, same bytes); the figure is closed."""
    import io

    buf = io.BytesIO()
    save(ax, buf)
    return buf.getvalue()


def save(ax, path) -> None:
    fig = ax.figure
    fig.tight_layout()
    # no timestamps in the file: the same scores give the same bytes
    fig.savefig(path, format="png", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)


# -- fonts and style ------------------------------------------------------------------------------

@functools.cache
def cjk_font() -> tuple[str, str] | None:
    """``(family, file)`` of an installed font with Chinese glyphs, or None when there is none.

    Looks the families in :data:`CJK_FAMILIES` up in matplotlib's font manager;
    fonts installed after matplotlib built its font cache are registered first.
    """
    from matplotlib import font_manager as fm

    def find():
        for family in CJK_FAMILIES:
            hits = [f for f in fm.fontManager.ttflist if f.name == family]
            if hits:  # the regular weight if there is one
                best = min(hits, key=lambda f: (abs(_weight(f.weight) - 400), f.fname))
                return best.name, best.fname
        return None

    found = find()
    if found is None:
        for path in sorted(fm.findSystemFonts()):
            low = path.lower()
            if any(k in low for k in ("cjk", "wqy", "sourcehan", "simhei", "msyh", "pingfang")):
                with contextlib.suppress(OSError, RuntimeError, ValueError):
                    fm.fontManager.addfont(path)
        found = find()
    return found


def _weight(w) -> int:
    if isinstance(w, int | float):
        return int(w)
    return {"light": 300, "normal": 400, "regular": 400, "book": 400, "medium": 500, "bold": 700}.get(str(w), 400)


def missing_glyphs(texts, font_file: str) -> set[str]:
    """The characters of ``texts`` that the font in ``font_file`` has no glyph for (spaces ignored)."""
    from matplotlib.ft2font import FT2Font

    cmap = FT2Font(font_file).get_charmap()
    chars = {ch for text in texts for ch in str(text) if not ch.isspace()}
    return {ch for ch in chars if ord(ch) not in cmap}


@contextlib.contextmanager
def style(lang: str = "en"):
    """The report's chart style (and, for ``lang="zh"``, a CJK font) for the charts drawn inside.

    Raises
    ------
    OutputError
        ``lang="zh"`` and no installed font has Chinese glyphs.
    """
    import matplotlib

    _pyplot()
    rc = {
        "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#666666",
        "axes.titlesize": 12, "axes.titleweight": "bold", "axes.titlelocation": "left", "axes.titlepad": 10,
        "axes.labelsize": 9.5, "axes.labelcolor": "#333333", "xtick.labelsize": 8.5, "ytick.labelsize": 8.5,
        "xtick.color": "#333333", "ytick.color": "#333333", "legend.fontsize": 8.5, "legend.frameon": False,
        "figure.dpi": 110, "savefig.dpi": 110, "font.family": "sans-serif",
        "axes.grid": False, "grid.color": "#e5e5e5", "grid.linewidth": 0.8,
    }
    if lang == "zh":
        font = cjk_font()
        if font is None:

            raise OutputError("no installed font has Chinese glyphs, so a zh report cannot be drawn; "
                              "install one (Debian: apt-get install fonts-noto-cjk)")
        rc["font.sans-serif"] = [font[0], "DejaVu Sans"]
        rc["axes.unicode_minus"] = False
    with matplotlib.rc_context(rc):
        yield


def _thousands(ax, axis="x"):
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:,.0f}")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _hbar(ax, labels, values, colors, total=None):
    """Horizontal bars, first label on top, each annotated with its value (and share of ``total``)."""
    values = np.asarray(values, dtype=float)
    y = np.arange(len(values))
    ax.barh(y, values, color=colors, height=0.65)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    for yi, v in zip(y, values, strict=True):
        text = f"{v:,.0f}" + (f"  ({v / total:.0%})" if total else "")
        ax.annotate(text, (v, yi), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlim(0, (values.max() if len(values) else 0) * 1.22 or 1)
    ax.grid(axis="x")
    ax.set_axisbelow(True)
    _thousands(ax)


def _short(text: str, n: int = 38) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _week_label(week: str) -> str:
    return str(week)[5:] if len(str(week)) == 10 else str(week)  # 2026-12-07 -> 12-07


# -- the report's charts --------------------------------------------------------------------------

def dormancy_stages(by_stage: pd.Series, targeted=(), lang: str = "en", ax=None):
    """Customers per dormancy stage (``by_stage``: stage -> count, in stage order); targeted stages dark."""
    ax = _axes(ax, (5.4, 0.45 * len(by_stage) + 1.4))
    colors = [ACCENT if s in targeted else MUTED for s in by_stage.index]
    _hbar(ax, [phrase(s, lang) for s in by_stage.index], by_stage.to_numpy(), colors, total=by_stage.sum())
    ax.set_xlabel(t("dormancy_x", lang))
    ax.set_title(t("dormancy_title", lang))
    return ax


def suppressed_by_reason(by_reason: pd.Series, lang: str = "en", ax=None):
    """Suppressed customers per reason (``by_reason``: reason -> count), largest first."""
    s = by_reason.sort_values(ascending=False, kind="stable")
    ax = _axes(ax, (5.4, 0.45 * max(len(s), 1) + 1.4))
    if len(s):
        _hbar(ax, [phrase(r, lang) for r in s.index], s.to_numpy(), WARN, total=s.sum())
    else:
        ax.text(0.5, 0.5, t("suppressed_none", lang), ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlabel(t("customers", lang))
    ax.set_title(t("suppressed_title", lang))
    return ax


def funnel(counts: pd.Series, lang: str = "en", ax=None):
    """The funnel: ``counts`` maps i18n keys (``funnel_dormant``, ``funnel_eligible``, ...) to customers."""
    ax = _axes(ax, (5.4, 0.55 * len(counts) + 1.4))
    values = counts.to_numpy(dtype=float)
    top = values.max() if len(values) else 1.0
    y = np.arange(len(values))
    shades = [ACCENT, "#3a7cab", "#2ca25f", MUTED, "#d9d9d9"]
    ax.barh(y, values, left=(top - values) / 2, color=shades[: len(values)] + [MUTED] * (len(values) - 5),
            height=0.7)
    for yi, v in zip(y, values, strict=True):
        ax.text(top / 2, yi, f"{v:,.0f}  ({v / top:.0%})" if top else "0", ha="center", va="center",
                fontsize=8.5, color="white" if v > 0.35 * top else "#222222")
    ax.set_yticks(y, [t(k, lang) for k in counts.index])
    ax.invert_yaxis()
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.set_xlabel(t("customers", lang))
    ax.set_title(t("funnel_title", lang))
    return ax


def calendar(by_week: pd.DataFrame, lang: str = "en", ax=None):
    """Touches per week (rows, ISO dates) by channel (columns), stacked; channels keep their colours."""
    ax = _axes(ax, (max(7.0, 0.32 * len(by_week) + 2), 4.2))
    x = np.arange(len(by_week))
    bottom = np.zeros(len(by_week))
    for ch in by_week.columns:
        v = by_week[ch].to_numpy(dtype=float)
        ax.bar(x, v, bottom=bottom, color=CHANNEL_COLORS.get(ch, MUTED), label=phrase(ch, lang), width=0.8)
        bottom += v
    step = max(1, int(np.ceil(len(x) / 20)))
    ax.set_xticks(x[::step], [_week_label(w) for w in by_week.index[::step]], rotation=45, ha="right")
    ax.set_xlabel(t("calendar_x", lang))
    ax.set_ylabel(t("calendar_y", lang))
    ax.grid(axis="y")
    ax.set_axisbelow(True)
    _thousands(ax, "y")
    if len(by_week.columns):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title=t("channel", lang))
    ax.set_title(t("calendar_title", lang))
    return ax


def capacity_heatmap(share: pd.DataFrame, title: str, ylabel: str, lang: str = "en", ax=None):
    """Share of capacity used per row (a channel or an RM) and week (columns, ISO dates), 0 to 100%.

    Cells are annotated when the table is small enough to read.
    """
    ax = _axes(ax, (max(7.0, 0.34 * share.shape[1] + 3), 0.32 * share.shape[0] + 1.8))
    values = share.to_numpy(dtype=float)
    im = ax.imshow(values, cmap="Blues", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    step = max(1, int(np.ceil(share.shape[1] / 20)))
    cols = np.arange(share.shape[1])
    ax.set_xticks(cols[::step], [_week_label(w) for w in share.columns[::step]], rotation=45, ha="right")
    ax.set_yticks(np.arange(share.shape[0]), [_short(phrase(str(r), lang), 24) for r in share.index])
    if values.size <= 260:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0%}" if v >= 0.01 or v == 0 else f"{v:.1%}", ha="center", va="center", fontsize=6.5,
                        color="white" if v > 0.6 else "#222222")
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(t("calendar_x", lang))
    ax.set_ylabel(ylabel)
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    cbar.set_label(t("capacity_cbar", lang))
    cbar.ax.yaxis.set_major_formatter(__import__("matplotlib.ticker").ticker.PercentFormatter(1.0))
    ax.set_title(title)
    return ax


def rm_load(bands: pd.DataFrame, lang: str = "en", ax=None):
    """How many RMs used how much of their weekly call capacity: weeks (rows) x bands (columns), stacked.

    The columns are the bands of :data:`reactivate.outputs.report.data.BANDS` (idle ... full); every RM
    is counted, so this reads the same for 20 RMs or 20,000.
    """
    ax = _axes(ax, (max(7.0, 0.32 * len(bands) + 2.5), 4.2))
    x = np.arange(len(bands))
    bottom = np.zeros(len(bands))
    colors = {"idle": "#e6e6e6", "1-25": "#c6dbef", "25-50": "#6baed6", "50-75": "#2171b5", "75-99": "#08306b",
              "full": WARN}
    for band in bands.columns:
        v = bands[band].to_numpy(dtype=float)
        ax.bar(x, v, bottom=bottom, color=colors.get(band, MUTED), label=t(f"band_{band}", lang), width=0.8)
        bottom += v
    step = max(1, int(np.ceil(len(x) / 20)))
    ax.set_xticks(x[::step], [_week_label(w) for w in bands.index[::step]], rotation=45, ha="right")
    ax.set_xlabel(t("calendar_x", lang))
    ax.set_ylabel(t("capacity_y_rm", lang))
    _thousands(ax, "y")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title=t("capacity_cbar", lang))
    ax.set_title(t("rm_load_title", lang))
    return ax


def ranking(segments: pd.DataFrame, lang: str = "en", ax=None):
    """Segments by expected value of their reactivations, rank 1 on top.

    ``segments`` has segment_id, segment_name, rank and expected_value (one row per segment).
    """
    s = segments.sort_values("rank", kind="stable")
    ax = _axes(ax, (8, 0.42 * len(s) + 1.5))
    labels = [f"#{r} {sid} {_short(phrase(n, lang), 44)}"
              for r, sid, n in zip(s["rank"], s["segment_id"], s["segment_name"], strict=True)]
    colors = [ACCENT if i < 3 else "#6a9cc4" for i in range(len(s))]
    _hbar(ax, labels, s["expected_value"].to_numpy(), colors)
    ax.set_xlabel(t("ranking_x", lang))
    ax.set_title(t("ranking_title", lang))
    return ax


def uplift(table: pd.DataFrame, dimension: str, lang: str = "en", ax=None):
    """Uplift (treated rate minus holdout rate) per level with its interval, in percentage points.

    ``table`` has level, uplift, ci_low, ci_high (rates as fractions), one row per level.
    """
    s = table[np.isfinite(table["uplift"].to_numpy(dtype=float))].reset_index(drop=True)  # groups with data
    ax = _axes(ax, (7, 0.42 * len(s) + 1.6))
    y = np.arange(len(s))
    mid = s["uplift"].to_numpy(dtype=float) * 100
    lo = s["ci_low"].to_numpy(dtype=float) * 100
    hi = s["ci_high"].to_numpy(dtype=float) * 100
    colors = np.where(lo > 0, "#2ca25f", np.where(hi < 0, WARN, "#777777"))
    ax.hlines(y, lo, hi, colors=colors, linewidth=2.2)
    ax.scatter(mid, y, c=colors, zorder=3, s=28)
    for yi, m in zip(y, mid, strict=True):
        ax.annotate(f"{m:+.1f}", (m, yi), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=7.5)
    ax.axvline(0, color="#444444", linewidth=0.8)
    ax.set_yticks(y, [_short(phrase(str(v), lang), 40) for v in s["level"]])
    ax.set_ylim(len(s) - 0.5, -0.7)
    ax.grid(axis="x")
    ax.set_axisbelow(True)
    ax.set_xlabel(t("uplift_x", lang))
    ax.set_title(t("uplift_title", lang, dimension=phrase(dimension, lang)))
    return ax


# -- the charts of an evaluation (reactivate evaluate, examples/hillstrom_uplift.py) ----------------

def uplift_chart(uplift: pd.DataFrame, ax=None):
    """Uplift (percentage points) with its 95% interval per row of uplift.csv, grouped by dimension."""
    t = uplift.reset_index(drop=True)
    labels = [f"{d}: {v}" for d, v in zip(t["dimension"], t["value"], strict=True)]
    ax = _axes(ax, (8, 0.35 * len(t) + 1.5))
    y = np.arange(len(t))[::-1]
    mid = t["uplift"].to_numpy(dtype=float) * 100
    lo = mid - t["ci_low"].to_numpy(dtype=float) * 100
    hi = t["ci_high"].to_numpy(dtype=float) * 100 - mid
    ax.errorbar(mid, y, xerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt="o", color="#4C72B0", capsize=3)
    ax.axvline(0, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("uplift, percentage points (contacted − holdout), 95% CI")
    ax.set_title("Reactivation uplift against the holdout")
    return ax


def uplift_at_k_chart(at_k: pd.DataFrame, ax=None):
    """Uplift of the top-ranked share k of the contacted against the top k of the holdout."""
    ax = _axes(ax)
    x = at_k["top_share"].to_numpy(dtype=float) * 100
    mid = at_k["uplift"].to_numpy(dtype=float) * 100
    ax.plot(x, mid, marker="o", color="#4C72B0", label="uplift")
    ax.fill_between(x, at_k["ci_low"].to_numpy(dtype=float) * 100, at_k["ci_high"].to_numpy(dtype=float) * 100,
                    color="#4C72B0", alpha=0.2, label="95% CI")
    ax.axhline(0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("top-ranked share k (%)")
    ax.set_ylabel("uplift, percentage points")
    ax.set_title("Uplift@k: top-ranked contacted vs top-ranked holdout")
    ax.legend(loc="best", fontsize=8)
    return ax


def arms_chart(arms: pd.DataFrame, outcome: str, ax=None):
    """Each arm's uplift on ``outcome`` (percentage points) with its 95% interval (randomized tests)."""
    t = arms[arms["outcome"] == outcome].reset_index(drop=True)
    ax = _axes(ax)
    mid = t["uplift"].to_numpy(dtype=float) * 100
    err = [mid - t["ci_low"].to_numpy(dtype=float) * 100, t["ci_high"].to_numpy(dtype=float) * 100 - mid]
    ax.bar(t["arm"], mid, yerr=err, capsize=4, color="#4C72B0")
    ax.axhline(0, color="grey", linewidth=1)
    ax.set_ylabel(f"uplift in {outcome} rate, percentage points")
    ax.set_title(f"{outcome}: each arm against the control, 95% CI")
    return ax


def backtest_auc(table: pd.DataFrame, ax=None):
    """``reactivate backtest``: each score's AUC per cutoff (rows of backtest.csv), the chosen one first."""
    t = table[table["auc"].notna()]
    names = list(dict.fromkeys(t["score"]))
    cutoffs = list(dict.fromkeys(t["cutoff"]))
    ax = _axes(ax, (8, 0.32 * len(names) * max(1, len(cutoffs)) + 1.5))
    height = 0.8 / max(1, len(cutoffs))
    y = np.arange(len(names))[::-1]
    colors = ["#1f5f8b", "#f0a23b", "#2ca25f", "#8e6bbf", "#c8553d", "#8c8c8c"]
    for i, c in enumerate(cutoffs):  # one bar group per cutoff
        auc = t[t["cutoff"] == c].set_index("score")["auc"].reindex(names).to_numpy(dtype=float)
        ax.barh(y - i * height, np.nan_to_num(auc, nan=0.5), height=height, color=colors[i % len(colors)],
                label=f"cutoff {c}")
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y - height * (len(cutoffs) - 1) / 2, names, fontsize=8)
    lo = float(np.nanmin(t["auc"].to_numpy(dtype=float))) if len(t) else 0.5
    ax.set_xlim(min(0.5, lo) - 0.02, 1.0)
    ax.set_xlabel("AUC on what happened after the cutoff (0.5 = chance)")
    ax.set_title("Backtest: who came back, each score against the baselines")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def reliability(table: pd.DataFrame, ax=None):
    """``reactivate backtest``: the chosen score's deciles, mean predicted against observed, per cutoff."""
    ax = _axes(ax, (5.5, 5))
    colors = ["#1f5f8b", "#f0a23b", "#2ca25f", "#8e6bbf", "#c8553d"]
    top = 0.05
    for i, (c, g) in enumerate(table.groupby("cutoff", sort=True)):  # one line per cutoff
        ax.plot(g["mean_predicted"], g["observed"], marker="o", color=colors[i % len(colors)], label=f"cutoff {c}")
        top = max(top, float(g["mean_predicted"].max()), float(g["observed"].max()))
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    ax.set_xlabel("mean predicted (decile of the chosen score)")
    ax.set_ylabel("observed return rate")
    ax.set_title("Backtest: calibration of the chosen score")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def figure_bytes(chart, data, *args) -> bytes:
    """PNG bytes of ``chart(data, *args)`` (see :func:`to_png`: same data, same bytes)."""
    return to_png(chart(data, *args))
