from __future__ import annotations

import pytest

from reactivate.config.campaign import CampaignSpec, load_campaign
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
    assert "holdout.share=-0.1 should be between 0 and 1" in str(err.value)


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
