"""Charts. The only module that imports matplotlib; each function takes ``ax=None`` and returns the Axes."""

from __future__ import annotations

import pandas as pd


def _axes(ax, size=(7, 4)):
    if ax is not None:
        return ax
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


def save(ax, path) -> None:
    fig = ax.figure
    fig.tight_layout()
    # no timestamps in the file: the same scores give the same bytes
    fig.savefig(path, format="png", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
