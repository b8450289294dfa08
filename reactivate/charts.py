"""Charts. The only module that imports matplotlib; each function takes ``ax=None`` and returns the Axes."""

from __future__ import annotations

import pandas as pd


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(7, 4), dpi=110)
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
