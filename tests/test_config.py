from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import types
import typing

import pytest

from reactivate.config.campaign import CampaignSpec, load_campaign
from reactivate.config.toml import RANGE, range_problems
from reactivate.errors import ConfigError
from reactivate.segmentation.spec import SegmentSpec, load_segment_spec
from tests.conftest import ROOT, write


def test_defaults_need_no_file():
    spec = load_campaign(None)
    assert spec.campaign.horizon_weeks == 12
    assert spec.channels["phone"].human is True
    assert spec.channels["sms"].human is False


def test_sample_campaign_matches_documented_defaults_except_identity():
    spec = load_campaign(ROOT / "campaigns" / "default.toml")
    d, e = spec.to_dict(), CampaignSpec().to_dict()
    assert {k for k in d if d[k] != e[k]} == {"campaign"}


def test_sample_segment_spec_is_the_builtin_default():
    assert load_segment_spec(ROOT / "segments" / "default.toml").to_dict() == SegmentSpec().to_dict()


def test_unknown_key_names_file_and_key(tmp_path):
    p = write(tmp_path / "c.toml", "[waves]\npilot_shar = 0.2\n")
    with pytest.raises(ConfigError) as err:
        load_campaign(p)
    assert str(err.value).startswith(f"{p}: unknown key 'waves.pilot_shar' (known: ")


def test_wrong_type_is_reported(tmp_path):
    p = write(tmp_path / "c.toml", '[campaign]\nhorizon_weeks = "twelve"\n')
    with pytest.raises(ConfigError, match=r"campaign.horizon_weeks='twelve' should be a whole number"):
        load_campaign(p)


def test_out_of_range_values_are_all_reported(tmp_path):
    p = write(tmp_path / "c.toml", "[waves]\npilot_share = 1.5\n[holdout]\nshare = -0.1\n")
    with pytest.raises(ConfigError) as err:
        load_campaign(p)
    assert "waves.pilot_share=1.5 should be between 0 and 1" in str(err.value)
    assert "holdout.share=-0.1 should be >= 0 and < 1 (1 would leave nobody to contact)" in str(err.value)


def test_a_channel_in_the_file_starts_from_its_builtin_settings(tmp_path):
    p = write(tmp_path / "c.toml", "[channels.phone]\nweekly_capacity = 10\n")
    spec = load_campaign(p)
    assert spec.channels["phone"].weekly_capacity == 10
    assert spec.channels["phone"].human is True and spec.channels["phone"].cost == 6.0
    assert spec.channels["sms"].weekly_capacity == 200_000


def test_unknown_channel_and_bad_mapping(tmp_path):
    p = write(tmp_path / "c.toml", '[channels.pigeon]\ncost = 1\n[data.accounts.columns]\nCUST = "cust"\n')
    with pytest.raises(ConfigError) as err:
        load_campaign(p)
    assert "channels.pigeon: unknown channel" in str(err.value)
    assert "'CUST' maps to 'cust', which is not a accounts column" in str(err.value)


def test_invalid_toml_and_missing_file(tmp_path):
    p = write(tmp_path / "c.toml", "[campaign\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_campaign(p)
    with pytest.raises(ConfigError, match="file not found"):
        load_campaign(tmp_path / "nope.toml")


def test_segment_spec_checks(tmp_path):
    p = write(tmp_path / "s.toml", "[features.shoe_size]\nweight = 1\n")
    with pytest.raises(ConfigError, match=r"features\.shoe_size: unknown feature"):
        load_segment_spec(p)
    p = write(tmp_path / "s2.toml", '[[carve_outs]]\nid = "vip"\nwhen = "balance >>> 3"\n')
    with pytest.raises(ConfigError, match="cannot read the condition 'balance >>> 3'"):
        load_segment_spec(p)
    p = write(tmp_path / "s3.toml", '[[carve_outs]]\nname = "x"\nwhen = "hardship"\n')
    with pytest.raises(ConfigError, match="needs the key 'id'"):
        load_segment_spec(p)


# --------------------------------------------------------------------------- every key has a range


def spec_classes():
    """Every dataclass a spec is built from, with the dotted path of one of its places in the spec."""
    out, todo = {}, [(CampaignSpec, ""), (SegmentSpec, "")]
    while todo:
        cls, where = todo.pop()
        if cls in out:
            continue
        out[cls] = where
        for f in dataclasses.fields(cls):
            leaf = _leaf(typing.get_type_hints(cls)[f.name])
            if dataclasses.is_dataclass(leaf):
                todo.append((leaf, f"{where}{f.name}."))
    return out


def _leaf(tp):
    """The type of a field's values: ``dict[str, X]``, ``tuple[X, ...]`` and ``X | None`` give X."""
    args = [a for a in typing.get_args(tp) if a is not type(None) and a is not Ellipsis]
    origin = typing.get_origin(tp)
    if origin is dict:
        return _leaf(args[1])
    if origin in (tuple, types.UnionType, typing.Union):
        return _leaf(args[0])
    return tp


def numeric_fields():
    """(class, field) of every number or date in a spec, found by walking the spec dataclasses."""
    return [(cls, f) for cls in spec_classes() for f in dataclasses.fields(cls)
            if _leaf(typing.get_type_hints(cls)[f.name]) in (int, float, dt.date)]


def test_the_walk_finds_the_spec_dataclasses_and_their_numbers():
    names = {cls.__name__ for cls in spec_classes()}
    assert {"CampaignSpec", "Channel", "JourneyStep", "Holdout", "SegmentSpec", "Algorithm", "FeatureSpec"} <= names
    found = {f"{cls.__name__}.{f.name}" for cls, f in numeric_fields()}
    assert {"ValueModel.per_reactivation", "Holdout.segment_share", "RMCapacity.overrides", "JourneyStep.gap_days",
            "CampaignInfo.blackout_dates", "Algorithm.k", "FeatureSpec.weight"} <= found
    assert len(found) >= 50


def test_every_number_and_date_of_every_spec_declares_its_range():
    missing = [f"{cls.__name__}.{f.name}" for cls, f in numeric_fields() if RANGE not in f.metadata]
    assert not missing, f"numeric spec keys without a declared range (use ranged() or within()): {missing}"


@pytest.mark.parametrize("default", [CampaignSpec(), SegmentSpec()], ids=["campaign", "segments"])
def test_every_default_lies_in_its_range(default):
    assert range_problems(default) == []


SHIPPED = sorted([*ROOT.glob("campaigns/*.toml"), *ROOT.glob("reactivate/config/defaults/campaigns/*.toml"),
                  ROOT / "examples" / "weekly" / "campaign.toml"])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_campaigns_are_valid(path):
    load_campaign(path)


@pytest.mark.parametrize("path", [ROOT / "segments" / "default.toml",
                                  ROOT / "reactivate/config/defaults/segments/default.toml"], ids=["repo", "package"])
def test_shipped_segment_specs_are_valid(path):
    load_segment_spec(path)


# --------------------------------------------------------------------------- hostile values, key by key


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f'"{k}" = {toml_value(x)}' for k, x in v.items()) + "}"


def toml_text(doc: dict) -> str:
    """A spec as TOML text: one ``key = value`` line per top-level key, tables inline."""
    return "".join(f"{k} = {toml_value(v)}\n" for k, v in doc.items())


#: a sample member of the tables and lists whose members are dataclasses, with their required keys
SAMPLES = {"channels": ("sms", {}), "journeys": ("j", {}), "steps": (1, {"channel": "sms"}),
           "features": ("balance", {}), "overrides": ("S01", {}), "carve_outs": (1, {"id": "x", "when": "hardship"})}


def hostile_docs(root, value_for):
    """For every number (or date) key of the spec class ``root``: its dotted key as errors name it, the
    value ``value_for(range, type)`` gives it (keys it gives None for are skipped), a spec doc that
    sets it (inside a sample member of the tables and lists of dataclasses, see SAMPLES) and its range."""
    out = []

    def walk(cls, path, wrap):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            leaf, many = _leaf(tp), typing.get_origin(tp) if typing.get_origin(tp) in (dict, tuple) else None
            if dataclasses.is_dataclass(leaf):
                if many is None:
                    walk(leaf, f"{path}{f.name}.", lambda d, w=wrap, n=f.name: w({n: d}))
                    continue
                member, required = SAMPLES[f.name]
                if many is tuple:
                    walk(leaf, f"{path}{f.name}[{member}].",
                         lambda d, w=wrap, n=f.name, r=required: w({n: [{**r, **d}]}))
                else:
                    walk(leaf, f"{path}{f.name}.{member}.",
                         lambda d, w=wrap, n=f.name, m=member, r=required: w({n: {m: {**r, **d}}}))
            elif leaf in (int, float, dt.date):
                rng = f.metadata[RANGE]
                bad = value_for(rng, leaf)
                if bad is None:
                    continue
                if many is dict:
                    out.append((f"{path}{f.name}.X1", bad, wrap({f.name: {"X1": bad}}), rng))
                elif many is tuple:
                    out.append((f"{path}{f.name}[1]", bad, wrap({f.name: [bad]}), rng))
                else:
                    out.append((f"{path}{f.name}", bad, wrap({f.name: bad}), rng))

    walk(root, "", lambda d: d)
    return out


def _step(leaf, x, sign):
    return x + sign * dt.timedelta(days=1) if leaf is dt.date else leaf(x + sign)


def below(rng, leaf):
    """A value just under the range (None when it has no lower end)."""
    if rng.ge is not None:
        return _step(leaf, rng.ge, -1)
    return leaf(rng.gt) if rng.gt is not None else None


def above(rng, leaf):
    """A value just over the range (None when it has no upper end)."""
    if rng.le is not None:
        return _step(leaf, rng.le, +1)
    return leaf(rng.lt) if rng.lt is not None else None


LOADERS = {CampaignSpec: load_campaign, SegmentSpec: load_segment_spec}
OUT_OF_RANGE = [(cls, key, bad, doc, rng) for cls in LOADERS for side in (below, above)
                for key, bad, doc, rng in hostile_docs(cls, side)]


def test_every_number_gets_a_value_under_and_over_its_range():
    assert len(OUT_OF_RANGE) >= 2 * 40  # every key has a lower end, most an upper one


@pytest.mark.parametrize(("cls", "key", "bad", "doc", "rng"), OUT_OF_RANGE,
                         ids=[f"{key}={bad}" for _, key, bad, _, _ in OUT_OF_RANGE])
def test_every_value_out_of_its_range_is_an_error_naming_file_key_value_and_range(tmp_path, cls, key, bad, doc, rng):
    p = write(tmp_path / "spec.toml", toml_text(doc))
    with pytest.raises(ConfigError) as err:
        LOADERS[cls](p)
    shown = bad.isoformat() if isinstance(bad, dt.date) else repr(bad)
    assert str(err.value).startswith(f"{p}: ")
    assert f"{key}={shown} should be {rng.text()}" in str(err.value)


NON_FINITE = [(cls, key, v, doc) for cls in LOADERS for v in (math.nan, math.inf, -math.inf)
              for key, _, doc, _ in hostile_docs(cls, lambda rng, leaf, v=v: v if leaf is float else None)]


def test_every_float_key_is_tried_with_nan_and_inf():
    assert len(NON_FINITE) >= 3 * 15  # every float key, in both specs


@pytest.mark.parametrize(("cls", "key", "v", "doc"), NON_FINITE, ids=[f"{k}={v}" for _, k, v, _ in NON_FINITE])
def test_nan_and_inf_are_refused_for_every_float_key(tmp_path, cls, key, v, doc):
    p = write(tmp_path / "spec.toml", toml_text(doc))
    with pytest.raises(ConfigError) as err:
        LOADERS[cls](p)
    assert str(err.value) == f"{p}: {key}={v!r} should be a finite number (not nan or inf)"


# --------------------------------------------------------------------------- files and rules between keys


def test_a_spec_that_is_a_folder_unreadable_or_not_utf8(tmp_path):
    (tmp_path / "spec.toml").mkdir()
    with pytest.raises(ConfigError, match=r"spec\.toml: is a folder, not a TOML file"):
        load_campaign(tmp_path / "spec.toml")
    gbk = write(tmp_path / "gbk.toml", '[campaign]\nname = "唤醒活动"\n', encoding="gbk")
    with pytest.raises(ConfigError, match=r"gbk\.toml: not UTF-8 text \(byte 20 is not UTF-8; .*e\.g\. not GBK\)"):
        load_campaign(gbk)


def test_a_utf8_byte_order_mark_is_allowed(tmp_path):
    p = tmp_path / "bom.toml"
    p.write_bytes('[campaign]\nname = "唤醒"\n'.encode("utf-8-sig"))
    assert load_campaign(p).campaign.name == "唤醒"


def test_list_members_are_named_by_position(tmp_path):
    p = write(tmp_path / "c.toml", '[campaign]\nblackout_dates = ["2026-12-31", "2026-13-01"]\n')
    with pytest.raises(ConfigError, match=r"campaign\.blackout_dates\[2\]='2026-13-01' should be a date"):
        load_campaign(p)
    p = write(tmp_path / "c.toml", '[journeys.j]\nsteps = [{channel = "sms"}, {channel = "fax", gap_days = 7}]\n')
    with pytest.raises(ConfigError, match=r"journeys\.j\.steps\[2\]: unknown channel 'fax' \(known: phone, sms"):
        load_campaign(p)


@pytest.mark.parametrize(("text", "message"), [
    ("[holdout]\nshare = 1.0\n", "holdout.share=1.0 should be >= 0 and < 1 (1 would leave nobody to contact)"),
    ('[campaign]\nweek_start = "Funday"\n', "campaign.week_start='Funday' should be one of monday"),
    ("[channels.sms]\ndays = []\n", "channels.sms.days: needs at least one weekday"),
    ("[dormancy]\ntarget_stages = []\n", "dormancy.target_stages: needs at least one stage"),
    ('[learning]\nmethod = "thompsen"\n', "learning.method='thompsen' should be one of thompson, ucb, off"),
    ('[followup]\nafter = ["maybe"]\n', "followup.after: unknown outcome 'maybe'"),
    ('[followup]\nchannel = "fax"\n', "followup.channel='fax' is not a channel"),
    ("[holdout.exclusive_with]\nreactivation = 0.1\n", "holdout.exclusive_with: names this campaign"),
    ("".join(f"[channels.{c}]\nweekly_capacity = 0\n" for c in ("phone", "sms", "wechat", "email", "app", "branch",
                                                                 "mail")),
     "channels: every channel has weekly_capacity = 0"),
    ('[inputs]\noutcomes = "x.csv"\n', "inputs.outcomes='x.csv' should be a list"),
    ("holdout = [0.1]\n", "[holdout] should be a table, got list"),
    ('[rm]\ncalls_per_week = "sixty"\n', "rm.calls_per_week='sixty' should be a whole number"),
    ("[rm]\ncalls_per_week = 60.5\n", "rm.calls_per_week=60.5 should be a whole number"),
])
def test_hostile_campaign_values(tmp_path, text, message):
    p = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as err:
        load_campaign(p)
    assert str(err.value).startswith(f"{p}: ") and message in str(err.value)


@pytest.mark.parametrize(("csv", "message"), [
    (None, "rm.overrides_file: {dir}/rms.csv: file not found"),
    ("rm_id,calls_per_week\nRM1,2\n,3\n", "rms.csv: column rm_id: 1 empty value(s), first at line(s) [3]"),
    ("rm_id,calls_per_week\nRM1,20000\n", "rms.csv: column calls_per_week: 1 value(s) above 10000"),
    ("rm_id,calls_per_week\nRM1,inf\n", "rms.csv: column calls_per_week: 1 value(s) above 10000"),
    ("rm_id,calls_per_week\nRM1,2\nRM1,3\n", "rms.csv: column rm_id: 1 repeated RM(s), first at line(s) [3]"),
])
def test_hostile_rm_capacity_files(tmp_path, csv, message):
    if csv is not None:
        (tmp_path / "rms.csv").write_bytes(csv.encode())
    p = write(tmp_path / "c.toml", '[rm]\noverrides_file = "rms.csv"\n')
    with pytest.raises(ConfigError, match=re.escape(message.format(dir=tmp_path))):
        load_campaign(p)


def test_an_rm_capacity_path_that_is_a_folder(tmp_path):
    (tmp_path / "rms.csv").mkdir()
    p = write(tmp_path / "c.toml", '[rm]\noverrides_file = "rms.csv"\n')
    with pytest.raises(ConfigError, match=r"rm\.overrides_file: .*rms\.csv: a folder, not a CSV file"):
        load_campaign(p)


@pytest.mark.parametrize(("text", "message"), [
    ("[algorithm]\nk = 5000\n", "algorithm.k=5000 should be between 0 and 40 (0 = choose; 1 is not a segmentation)"),
    ("[algorithm]\nk = 1\n", "algorithm.k=1 should be 0 (choose) or between 2 and 40"),
    ("[algorithm]\nk_max = 3000\n", "algorithm.k_max=3000 should be between 2 and 40"),
    ("[algorithm]\nk_min = 6\nk_max = 4\n", "need 2 <= algorithm.k_min <= algorithm.k_max, got 6, 4"),
    ("[algorithm]\nrandom_state = -1\n", "algorithm.random_state=-1 should be between 0 and 4294967295"),
    ("[features.age]\nweight = nan\n", "features.age.weight=nan should be a finite number"),
    ("[features]\n", "features: needs at least one feature"),
    ("[features.age]\nweight = 0\n[features.balance]\nweight = 0\n", "at least one feature needs a weight > 0"),
    ('[algorithm]\nname = "dbscan"\n', "algorithm.name='dbscan' should be one of kmeans, gmm"),
])
def test_hostile_segment_values(tmp_path, text, message):
    p = write(tmp_path / "s.toml", text)
    with pytest.raises(ConfigError) as err:
        load_segment_spec(p)
    assert str(err.value).startswith(f"{p}: ") and message in str(err.value)


def test_range_text():
    from reactivate.config.toml import Range

    assert Range(ge=0, le=1).text() == "between 0 and 1"
    assert Range(gt=0, le=1e6).text() == "> 0 and <= 1000000"
    assert Range(ge=0, lt=1, note="why").text() == ">= 0 and < 1 (why)"
    assert Range(ge=dt.date(1900, 1, 1)).text() == ">= 1900-01-01"
    assert not Range(ge=0, le=1).contains(math.nan) and Range(ge=0, le=1).contains(1)


@pytest.mark.parametrize(("text", "message"), [
    ('[campaign]\nid = ""\n', "campaign.id='' should be 1 to 200 printable characters"),
    (f'[campaign]\nid = "{"x" * 300}"\n', f"campaign.id='{'x' * 76}' ... should be 1 to 200 printable characters"),
    ('[campaign]\nname = "a\\nb"\n', "campaign.name='a\\nb' should be 1 to 500 printable characters"),
])
def test_campaign_ids_and_names_the_ledger_can_hold(tmp_path, text, message):
    p = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as err:
        load_campaign(p)
    assert str(err.value) == f"{p}: {message}"
