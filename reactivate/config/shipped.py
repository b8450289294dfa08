"""The default specs shipped inside the package, as files: ``reactivate/config/defaults/``.

``campaigns/`` and ``segments/`` at the root of the repository are the analyst-editable copies of
these files (a test keeps them byte-identical); an installed ``reactivate`` (a wheel, not the
repository) reads the packaged ones, e.g. ``reactivate demo``. A spec names its neighbours by a path
relative to itself (``rm.overrides_file = "rm_capacity.csv"``), so they are always read from one
folder. ``load_campaign(None)`` and ``load_segment_spec(None)`` still mean the defaults built in code.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from importlib.resources import files
from pathlib import Path

#: every shipped file, relative to the defaults folder (the layout of the repository's root)
FILES = ("campaigns/default.toml", "campaigns/demo.toml", "campaigns/journeys.toml", "campaigns/purchase_log.toml",
         "campaigns/rm_capacity.csv", "segments/default.toml")
CAMPAIGN = "campaigns/default.toml"
#: the demo bank's campaign (``reactivate demo``): default.toml's rules, capacities for 20,000 customers
DEMO_CAMPAIGN = "campaigns/demo.toml"
#: a campaign for a plain purchase log (no accounts, no consent columns)
PURCHASE_LOG = "campaigns/purchase_log.toml"
SEGMENTS = "segments/default.toml"


def spec_file(name: str) -> Path:
    """The path of a shipped file, e.g. ``spec_file("campaigns/default.toml")``.

    The package's own file when the package sits on a file system (a wheel or an editable install);
    otherwise (a zip) a copy of the whole defaults folder in a temporary folder, made once and removed
    at exit, so relative references between the files still resolve.
    """
    if name not in FILES:
        raise ValueError(f"{name!r} is not a shipped spec (one of: {', '.join(FILES)})")
    root = files("reactivate.config").joinpath("defaults")
    if isinstance(root, Path):
        return root / name
    return _unpacked() / name


def campaign_file() -> Path:
    """The shipped campaign spec (``campaigns/default.toml``)."""
    return spec_file(CAMPAIGN)


def segments_file() -> Path:
    """The shipped segmentation spec (``segments/default.toml``)."""
    return spec_file(SEGMENTS)


@cache
def _unpacked() -> Path:
    root = files("reactivate.config").joinpath("defaults")
    tmp = Path(tempfile.mkdtemp(prefix="reactivate-specs-"))
    atexit.register(shutil.rmtree, tmp, True)
    for name in FILES:
        dest = tmp / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(root.joinpath(*name.split("/")).read_bytes())
    return tmp
