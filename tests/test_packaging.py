"""The default specs ship inside the package, and an installed wheel (not the repository) runs the demo on them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from reactivate.config import shipped
from reactivate.config.campaign import load_campaign
from reactivate.segmentation.spec import load_segment_spec
from tests.conftest import ROOT


def test_the_root_copies_equal_the_packaged_specs_byte_for_byte():
    at_root = sorted(str(p.relative_to(ROOT)) for d in ("campaigns", "segments") for p in (ROOT / d).iterdir()
                     if p.is_file())
    assert at_root == sorted(shipped.FILES), "a spec added at the root is shipped too (config/defaults/, FILES)"
    for name in shipped.FILES:
        assert shipped.spec_file(name).read_bytes() == (ROOT / name).read_bytes(), (
            f"{name} differs from reactivate/config/defaults/{name}: copy the edited file over the other")


def test_the_packaged_specs_load_and_resolve_their_neighbours():
    assert shipped.campaign_file() == shipped.spec_file("campaigns/default.toml")
    spec = load_campaign(shipped.campaign_file())
    assert spec.source == str(shipped.campaign_file()) and spec.campaign.id == "wake-2026q4"
    assert load_campaign(shipped.spec_file(shipped.DEMO_CAMPAIGN)).campaign.id == "wake-2026q4"
    assert load_campaign(shipped.spec_file(shipped.PURCHASE_LOG)).consent.assume_when_missing == ("email", "app")
    journeys = load_campaign(shipped.spec_file("campaigns/journeys.toml"))  # names rm_capacity.csv beside it
    assert journeys.rm.overrides and journeys.rm.overrides_file == "rm_capacity.csv"
    assert load_segment_spec(shipped.segments_file()).source == str(shipped.segments_file())
    with pytest.raises(ValueError, match="not a shipped spec"):
        shipped.spec_file("campaigns/nope.toml")


def test_a_package_in_a_zip_reads_an_unpacked_copy(tmp_path, monkeypatch):
    archive = tmp_path / "specs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in shipped.FILES:
            z.writestr(f"reactivate/config/defaults/{name}", (ROOT / name).read_bytes())
    monkeypatch.setattr(shipped, "files", lambda package: zipfile.Path(archive, "reactivate/config/"))
    shipped._unpacked.cache_clear()
    try:
        path = shipped.spec_file("campaigns/journeys.toml")
        assert path.is_file() and str(path).endswith("campaigns/journeys.toml")
        assert load_campaign(path).rm.overrides  # rm_capacity.csv unpacked beside it
        assert shipped.campaign_file().read_bytes() == (ROOT / "campaigns" / "default.toml").read_bytes()
    finally:
        shipped._unpacked.cache_clear()


def _build_wheel(tmp_path):
    """Build the wheel from a copy of the sources (an in-tree build would leave build/ in the repository)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "reactivate", src / "reactivate", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)]
    r = subprocess.run([*cmd, "--no-build-isolation"], capture_output=True, text=True)
    if r.returncode != 0:  # the environment's setuptools is too old for pyproject.toml: an isolated build
        r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0 and "satisfies the requirement setuptools" in r.stderr:
        pytest.skip("cannot build the wheel: setuptools>=68 is not installed and cannot be fetched")
    assert r.returncode == 0, r.stderr
    (wheel,) = dist.glob("reactivate-*.whl")
    return wheel


@pytest.mark.slow
def test_an_installed_wheel_runs_the_demo_on_the_shipped_specs(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"reactivate/config/defaults/{name}" for name in shipped.FILES} <= names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import reactivate; print(reactivate.__file__)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert where == str(site / "reactivate" / "__init__.py")  # the installed copy, not the repository

    r = subprocess.run([sys.executable, "-m", "reactivate", "demo", "--customers", "2000", "--out", "out"],
                       cwd=elsewhere, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "against the demo's ground truth: customer AUC" in r.stderr
    run = json.loads((elsewhere / "out" / "plan" / "run.json").read_text())
    packaged = site / "reactivate" / "config" / "defaults"
    # the packaged demo campaign, scaled to the book and written beside it
    assert run["campaign_source"] == "out/campaign.toml"  # as --out was given
    assert "campaigns/demo.toml" in (elsewhere / "out" / "campaign.toml").read_text()
    assert run["segmentation_source"] == str(packaged / "segments" / "default.toml")
