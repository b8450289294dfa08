"""Campaign specs: TOML files read into frozen, typed objects.

Every key has a code default, so every file is optional; unknown keys and
values of the wrong type are :class:`~reactivate.errors.ConfigError` naming
the file and the key. Every number and date declares its range on its field
(:func:`~reactivate.config.toml.ranged`); a value outside it, ``nan`` or ``inf``
is an error naming the file, the key, the value and the range, and
:func:`load_campaign` reports every problem of a file at once.
``CampaignSpec.to_dict()`` gives the resolved config written to ``run.json``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reactivate.config.toml import build, field_range, range_problems, ranged, read_toml, to_plain, within
from reactivate.errors import ConfigError
from reactivate.schema import CHANNELS, OUTCOMES, TABLES
from reactivate.themes import THEMES

# the optimizer's methods (reactivate.planning.optimizer): a fast Lagrangian default, an exact min-cost flow
METHODS = ("lagrangian", "exact")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: the learning methods (reactivate.scoring.learn)
LEARNING_METHODS = ("thompson", "ucb", "off")
#: the engines that aggregate the transaction log (``[engine] name``)
ENGINES = ("duckdb", "spark")
#: dates a spec may name: ones pandas can hold with the campaign's weeks after them
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
#: day counts (dormancy clocks, suppression): at most a century
MAX_DAYS = 36_500
#: the longest campaign id and name the ledger holds
MAX_ID, MAX_NAME = 200, 500
#: the longest column name ``targets.show`` may name
MAX_COLUMN = 200


@dataclass(frozen=True)
class CampaignInfo:
    id: str = "reactivation"
    name: str = "Dormant customer reactivation"
    #: first day of the campaign; default: the first week start after the as-of date
    start_date: dt.date | None = field(default=None, metadata=within(ge=FIRST_DATE, le=LAST_DATE))
    horizon_weeks: int = ranged(12, ge=1, le=104)
    week_start: str = "monday"
    #: seeds the pilot draw and the models (a seed scikit-learn accepts)
    seed: int = ranged(0, ge=0, le=2**32 - 1)
    #: ISO country code for public holidays and festivals (``holidays`` package)
    country: str = "CN"
    currency: str = "CNY"
    #: days on which no channel runs (e.g. a system freeze); channels also close on their own days off
    blackout_dates: tuple[dt.date, ...] = ranged((), ge=FIRST_DATE, le=LAST_DATE)


@dataclass(frozen=True)
class TableInput:
    """How to read one input table."""

    #: bank column name -> contract column name
    columns: dict[str, str] = field(default_factory=dict)
    #: strptime format for date columns (e.g. "%d/%m/%Y"); default ISO 8601
    date_format: str = ""
    #: overrides ``data.encoding`` for this table
    encoding: str = ""
    #: CSV field separator
    sep: str = ","


@dataclass(frozen=True)
class DataSpec:
    #: text encoding of CSV inputs: utf-8 (a BOM is handled), gbk, gb18030, ...
    encoding: str = "utf-8"
    #: the bank's local time zone (IANA name, e.g. "Asia/Shanghai"): timestamps that carry a zone
    #: (``+08:00``, ``Z``, zoned Parquet columns) are converted to it; needed only when they do
    timezone: str = ""
    accounts: TableInput = field(default_factory=TableInput)
    transactions: TableInput = field(default_factory=TableInput)
    contacts: TableInput = field(default_factory=TableInput)


@dataclass(frozen=True)
class DormancyRules:
    """Days since the last customer-initiated activity (see docs/data.md)."""

    at_risk_days: int = ranged(180, ge=1, le=MAX_DAYS)
    dormant_days: int = ranged(365, ge=1, le=MAX_DAYS)
    long_dormant_days: int = ranged(730, ge=1, le=MAX_DAYS)
    #: the regulatory clock: after this many days an account becomes inoperative
    #: or reportable (e.g. RBI: 2 years); the plan contacts customers before it
    inoperative_days: int = ranged(1095, ge=1, le=MAX_DAYS)
    #: contact at least this many days before the regulatory date
    deadline_lead_days: int = ranged(21, ge=0, le=3650)
    #: stages the campaign targets
    target_stages: tuple[str, ...] = ("dormant", "long_dormant")
    #: the BG/NBD propensity source counts purchase occasions per this many days (1: distinct days)
    occasion_days: int = ranged(1, ge=1, le=366)


@dataclass(frozen=True)
class ValueModel:
    """Expected value of one reactivated customer, in the book's currency."""

    per_reactivation: float = ranged(150.0, ge=0, le=1e9)
    #: yearly margin earned on the customer's balance once active again (a fraction: 0.01 = 1%)
    balance_margin: float = ranged(0.01, ge=0, le=1)
    #: balances above this count only up to it (outliers)
    balance_cap: float = ranged(2_000_000.0, ge=0, le=1e15)


@dataclass(frozen=True)
class Channel:
    cost: float = ranged(1.0, ge=0, le=100_000)
    #: touches per week over the whole campaign (0 = channel off)
    weekly_capacity: int = ranged(0, ge=0, le=100_000_000)
    #: a person speaks to the customer (care-first customers get only these)
    human: bool = False
    #: relative effectiveness when the history has no evidence (phone = 1.0, the best)
    response_prior: float = ranged(0.5, ge=0, le=1)
    #: weekdays the channel works; a week's capacity is scaled by its open days
    days: tuple[str, ...] = WEEKDAYS
    #: closed on the country's public holidays (and always on ``campaign.blackout_dates``)
    closed_on_holidays: bool = False
    #: the best time of day to reach a customer on this channel, shown in the RM lists
    hours: str = ""


WORKDAYS = WEEKDAYS[:5]


def _default_channels() -> dict[str, Channel]:
    return {
        "phone": Channel(cost=6.0, weekly_capacity=100_000, human=True, response_prior=1.0, days=WORKDAYS,
                         closed_on_holidays=True, hours="10:00-12:00, 14:00-17:00"),
        "sms": Channel(cost=0.05, weekly_capacity=200_000, response_prior=0.35, hours="10:00-20:00"),
        "wechat": Channel(cost=0.02, weekly_capacity=200_000, response_prior=0.6, hours="10:00-21:00"),
        "email": Channel(cost=0.01, weekly_capacity=200_000, response_prior=0.25),
        "app": Channel(cost=0.0, weekly_capacity=200_000, response_prior=0.45, hours="10:00-20:00"),
        "branch": Channel(cost=12.0, weekly_capacity=5_000, human=True, response_prior=0.8,
                          days=WEEKDAYS[:6], closed_on_holidays=True, hours="10:00-16:00"),
        "mail": Channel(cost=1.2, weekly_capacity=20_000, response_prior=0.3, days=WORKDAYS,
                        closed_on_holidays=True),
    }


@dataclass(frozen=True)
class RMCapacity:
    #: good calls one RM can make in a week
    calls_per_week: int = ranged(60, ge=0, le=10_000)
    #: weekly calls of the pool that serves customers without an RM
    pool_calls_per_week: int = ranged(300, ge=0, le=1_000_000)
    #: calls per week of named RMs (part time, new joiners...): rm_id -> calls
    overrides: dict[str, int] = field(default_factory=dict, metadata=within(ge=0, le=10_000))
    #: a CSV with columns rm_id, calls_per_week (path relative to the campaign file); its rows are
    #: read into ``overrides`` (keys given in ``overrides`` win)
    overrides_file: str = ""


@dataclass(frozen=True)
class Waves:
    #: share of every segment contacted in the pilot wave
    pilot_share: float = ranged(0.1, ge=0, le=1)
    #: a segment smaller than this gets no pilot sample of its own (all of it waits)
    pilot_min_customers: int = ranged(1, ge=0, le=10_000_000)
    #: the pilot runs in the first N weeks
    pilot_weeks: int = ranged(1, ge=1, le=104)
    #: main waves start only after the pilot's response window (days)
    response_window_days: int = ranged(14, ge=0, le=365)
    #: at most this share of a segment is released in one main wave
    max_release_share: float = ranged(0.4, gt=0, le=1)
    #: weeks one main wave spans
    wave_weeks: int = ranged(2, ge=1, le=104)


@dataclass(frozen=True)
class Holdout:
    #: share of each segment kept as an uncontacted control group
    #: (below 1: a holdout of everyone would leave nobody to contact and no uplift to measure)
    share: float = ranged(0.1, ge=0, lt=1, note="1 would leave nobody to contact")
    #: a different share for named segments: segment_id -> share
    segment_share: dict[str, float] = field(default_factory=dict,
                                            metadata=within(ge=0, lt=1, note="1 would leave nobody to contact"))
    #: other campaigns whose holdouts this one must not overlap: campaign id -> its holdout share
    exclusive_with: dict[str, float] = field(default_factory=dict, metadata=within(ge=0, lt=1, note="a holdout share"))
    #: without contact a segment reactivates at this share of its expected rate when contacted (its
    #: mean p_reactivate); the difference is the expected uplift, and a holdout too small to detect it
    #: is warned about
    baseline_share: float = ranged(0.5, ge=0, le=1)


@dataclass(frozen=True)
class ContactPolicy:
    #: touches per customer in this campaign
    max_touches: int = ranged(1, ge=1, le=100)
    #: touches per customer in any 30 days, counting the contact history
    max_touches_30d: int = ranged(2, ge=1, le=30)
    #: minimum days between two touches of a customer (history included)
    min_gap_days: int = ranged(14, ge=0, le=365)
    #: customers contacted within this many days before the start are held back
    skip_contacted_within_days: int = ranged(30, ge=0, le=3650)
    #: a complaint within this many days suppresses the customer
    complaint_suppress_days: int = ranged(365, ge=0, le=MAX_DAYS)
    #: customers younger than this are never contacted
    min_age: int = ranged(18, ge=0, le=120)


@dataclass(frozen=True)
class JourneyStep:
    channel: str
    #: days after the previous step (the contact policy's minimum gap still applies)
    gap_days: int = ranged(0, ge=0, le=365)
    #: when the step goes ahead, shown in the plan and the RM lists
    condition: str = "if no response"


@dataclass(frozen=True)
class Journey:
    """A sequence of touches for the customers of some segments or themes.

    A step is scheduled only if the customer may be reached on its channel;
    the first step the customer can take is the touch the optimizer places.
    """

    steps: tuple[JourneyStep, ...] = ()
    #: segment ids the journey is for (empty: any)
    segments: tuple[str, ...] = ()
    #: themes the journey is for (empty: any)
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Themes:
    #: the message theme of a segment's touches when no dated event or care need sets one
    segments: dict[str, str] = field(default_factory=dict)
    #: extra themes with their opener lines: name -> {"en": ..., "zh": ...}
    text: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Optimizer:
    #: "lagrangian" (fast, within about 1% of the optimum) or "exact" (min-cost flow)
    method: str = "lagrangian"
    #: cost of each week a touch waits after the customer is released (currency), so earlier is better
    delay_cost: float = ranged(0.5, ge=0, le=1_000_000)
    #: price iterations of the Lagrangian method
    iterations: int = ranged(35, ge=1, le=10_000)


@dataclass(frozen=True)
class Targets:
    #: RM lists (targets/<week>/<rm>.csv) for the first N weeks of the plan (the weeks that are due);
    #: 0 = none, horizon_weeks = all. plan.csv always holds the whole horizon.
    list_weeks: int = ranged(1, ge=0, le=104)
    #: Excel workbooks (one per RM per week) for the first N weeks; 0 = none; never beyond list_weeks
    excel_weeks: int = ranged(1, ge=0, le=104)
    #: columns of the accounts file passed through to the RM lists and workbooks, and nowhere else
    #: (never logs, errors, summary.json, the report, plan.csv or scores.csv): a contract column such as
    #: "branch_id" or any other column of the file ("name", "mobile"); read as text, per customer the
    #: first non-empty value in file order
    show: tuple[str, ...] = ()
    #: the balance bands of the RM lists: the upper end of each band but the last, increasing, in the
    #: book's currency (the default gives <10k, 10k–50k, 50k–100k, 100k–500k, 500k–1M, ≥1M)
    balance_bands: tuple[float, ...] = ranged((10_000.0, 50_000.0, 100_000.0, 500_000.0, 1_000_000.0), gt=0, le=1e15)
    #: the exact balance in the RM lists instead of its band
    exact_balance: bool = False


@dataclass(frozen=True)
class Consent:
    #: channels assumed consented when the consent_<channel> column is absent
    assume_when_missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class LedgerSpec:
    """Where the contact ledger lives (``reactivate run``, ``record``, ``evaluate``)."""

    #: a SQLite file (relative to the campaign file) or an SQLAlchemy URL such as
    #: postgresql+psycopg://user@host/db; "" = ``ledger.sqlite`` beside the outputs
    url: str = ""


@dataclass(frozen=True)
class Learning:
    """Learning between waves: Beta-Binomial posteriors of the response rate per segment x channel."""

    #: thompson (a seeded posterior draw), ucb (posterior mean + z * sd) or off
    method: str = "thompson"
    #: the Beta prior of a channel's response rate, as pseudo-touches: alpha responses in alpha+beta
    prior_alpha: float = ranged(1.0, gt=0, le=1_000_000)
    prior_beta: float = ranged(19.0, gt=0, le=1_000_000)
    #: ucb: how many posterior standard deviations are added to the mean
    ucb_z: float = ranged(1.0, ge=0, le=10)
    #: evaluate: days after the first contact in which customer-initiated activity counts as reactivation
    window_days: int = ranged(30, ge=1, le=365)


@dataclass(frozen=True)
class FollowUp:
    """Follow-ups (回访) of responders by their RM, and rest for those who declined."""

    enabled: bool = True
    #: outcomes that earn a follow-up call by the customer's RM
    after: tuple[str, ...] = ("responded", "reactivated")
    #: outcomes older than this many days get no follow-up any more
    within_days: int = ranged(28, ge=0, le=365)
    #: the follow-up channel (a human one)
    channel: str = "phone"
    #: customers who declined are not contacted again for this many days
    rest_days: int = ranged(90, ge=0, le=3650)


@dataclass(frozen=True)
class Inputs:
    """The files ``reactivate run`` reads each week (relative to the campaign file).

    ``{week}`` in a path is replaced by the ISO week (2026-W49)."""

    accounts: str = ""
    transactions: str = ""
    contacts: str = ""
    #: delivered touches and outcomes to record before planning (files or glob patterns)
    outcomes: tuple[str, ...] = ()
    #: the RM lists handed back (workbooks and CSV lists; files, folders or glob patterns), recorded
    #: before planning like ``outcomes``; a folder not there yet holds none
    lists: tuple[str, ...] = ()
    segments: str = ""
    segments_model: str = ""
    #: outputs go to <out>/<campaign id>/<week>/
    out: str = "runs"


@dataclass(frozen=True)
class SparkSettings:
    """``[engine.spark]``: where Spark runs (``reactivate plan --engine spark``)."""

    #: the Spark master (local[2], yarn, k8s://https://host:443, spark://host:7077); "" = the one spark-submit
    #: or the Spark environment (SPARK_HOME, spark-defaults.conf) gives, else local[*]
    master: str = ""
    #: the application's name in the cluster's UI
    app_name: str = "reactivate"
    #: Spark settings (spark.executor.memory = "8g", ...), applied when the session is built
    conf: dict[str, str] = field(default_factory=dict)
    #: where a plan's scores and plan also go as partitioned Parquet, one folder per as-of date
    #: (hdfs://nn/warehouse/reactivate, s3a://bucket/reactivate); "" = not written
    warehouse: str = ""


@dataclass(frozen=True)
class EngineSpec:
    """``[engine]``: what aggregates the transaction log: duckdb (this machine) or spark (a cluster)."""

    name: str = "duckdb"
    spark: SparkSettings = field(default_factory=SparkSettings)


@dataclass(frozen=True)
class CampaignSpec:
    campaign: CampaignInfo = field(default_factory=CampaignInfo)
    data: DataSpec = field(default_factory=DataSpec)
    dormancy: DormancyRules = field(default_factory=DormancyRules)
    value: ValueModel = field(default_factory=ValueModel)
    channels: dict[str, Channel] = field(default_factory=_default_channels)
    rm: RMCapacity = field(default_factory=RMCapacity)
    waves: Waves = field(default_factory=Waves)
    holdout: Holdout = field(default_factory=Holdout)
    policy: ContactPolicy = field(default_factory=ContactPolicy)
    consent: Consent = field(default_factory=Consent)
    ledger: LedgerSpec = field(default_factory=LedgerSpec)
    learning: Learning = field(default_factory=Learning)
    followup: FollowUp = field(default_factory=FollowUp)
    inputs: Inputs = field(default_factory=Inputs)
    journeys: dict[str, Journey] = field(default_factory=dict)
    themes: Themes = field(default_factory=Themes)
    optimizer: Optimizer = field(default_factory=Optimizer)
    targets: Targets = field(default_factory=Targets)
    engine: EngineSpec = field(default_factory=EngineSpec)
    #: where the spec came from ("<defaults>" when built in code)
    source: str = "<defaults>"

    def to_dict(self) -> dict[str, Any]:
        """The resolved spec as plain JSON-ready data."""
        out = to_plain(self)
        out.pop("source", None)
        return out


# --------------------------------------------------------------------------- loading


def load_campaign(path: str | Path | None) -> CampaignSpec:
    """Read a campaign spec; ``None`` gives the defaults.

    Raises
    ------
    ConfigError
        The file is missing, is not valid TOML, has an unknown key or a bad value.
    """
    if path is None:
        return _check(CampaignSpec())
    raw = read_toml(path)
    chans = raw.get("channels")
    if isinstance(chans, dict):
        # a channel named in the file starts from its built-in settings
        defaults = _default_channels()
        raw = dict(raw)
        raw["channels"] = {
            **{k: dataclasses.asdict(v) for k, v in defaults.items()},
            **{
                k: ({**dataclasses.asdict(defaults[k]), **v} if k in defaults and isinstance(v, dict) else v)
                for k, v in chans.items()
            },
        }
    spec = build(CampaignSpec, raw, str(path), "")
    spec = dataclasses.replace(spec, source=str(path))
    if spec.rm.overrides_file:
        from_file = read_rm_overrides(Path(path).parent / spec.rm.overrides_file, str(path))
        spec = dataclasses.replace(spec, rm=dataclasses.replace(spec.rm, overrides={**from_file, **spec.rm.overrides}))
    return _check(spec)


def read_rm_overrides(path: Path, where: str) -> dict[str, int]:
    """RM capacity overrides from a CSV with columns rm_id, calls_per_week."""
    import pandas as pd

    if not path.is_file():
        what = "a folder, not a CSV file" if path.is_dir() else "file not found"
        raise ConfigError(f"{where}: rm.overrides_file: {path}: {what}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text (save the RM capacity file as UTF-8)") from None
    except (ValueError, OSError) as exc:
        raise ConfigError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in ("rm_id", "calls_per_week") if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)} (need rm_id, calls_per_week)")
    calls = pd.to_numeric(df["calls_per_week"], errors="coerce")
    bad = calls.isna() | (calls < 0) | (calls != calls.round())
    if bad.any():
        rows = (df.index[bad] + 2).tolist()[:5]  # +2: the header line and 1-based rows
        raise ConfigError(f"{path}: column calls_per_week: {int(bad.sum())} value(s) not a whole number >= 0, "
                          f"first at line(s) {rows}")
    rng = field_range(RMCapacity, "overrides")
    big = calls > rng.le
    if big.any():
        raise ConfigError(f"{path}: column calls_per_week: {int(big.sum())} value(s) above {rng.le} (calls of one RM "
                          f"in a week should be {rng.text()}), first at line(s) {(df.index[big] + 2).tolist()[:5]}")
    empty = df["rm_id"].str.strip() == ""
    if empty.any():
        raise ConfigError(f"{path}: column rm_id: {int(empty.sum())} empty value(s), first at line(s) "
                          f"{(df.index[empty] + 2).tolist()[:5]}")
    dup = df["rm_id"].duplicated()
    if dup.any():
        raise ConfigError(f"{path}: column rm_id: {int(dup.sum())} repeated RM(s), first at line(s) "
                          f"{(df.index[dup] + 2).tolist()[:5]}")
    return dict(zip(df["rm_id"].astype(str), calls.astype(int).tolist(), strict=True))


def _check(spec: CampaignSpec) -> CampaignSpec:
    """Return ``spec`` if every value is valid, else raise one :class:`ConfigError` listing every problem.

    First every number and date against the range its field declares (:func:`ranged`), then the
    ``_*_problems`` helpers below (names, and rules between keys), in the order of :data:`_CHECKS`.
    """
    problems = [problem for check in _CHECKS for problem in check(spec)]
    if problems:
        raise ConfigError(f"{spec.source}: " + "; ".join(problems))
    return spec


def _campaign_problems(spec: CampaignSpec) -> list[str]:
    """``[campaign]``: the first day of the week, an id and a name the ledger can hold (the horizon has its range)."""
    problems = []
    c = spec.campaign
    if c.week_start not in WEEKDAYS:
        problems.append(f"campaign.week_start={c.week_start!r} should be one of {', '.join(WEEKDAYS)}")
    for key, text, most in (("campaign.id", c.id, MAX_ID), ("campaign.name", c.name, MAX_NAME)):
        if not 0 < len(text) <= most or not text.isprintable():
            shown = repr(text) if len(text) <= 80 else repr(text[:76]) + " ..."
            problems.append(f"{key}={shown} should be 1 to {most} printable characters")
    return problems


def _dormancy_problems(spec: CampaignSpec) -> list[str]:
    """``[dormancy]``: the stage thresholds in order, known target stages, the regulatory clock."""
    problems = []
    d = spec.dormancy
    if not 0 < d.at_risk_days < d.dormant_days < d.long_dormant_days:
        problems.append(
            "dormancy: need 0 < at_risk_days < dormant_days < long_dormant_days, got "
            f"{d.at_risk_days}, {d.dormant_days}, {d.long_dormant_days}"
        )
    for st in d.target_stages:
        if st not in ("active", "at_risk", "dormant", "long_dormant"):
            problems.append(f"dormancy.target_stages: unknown stage {st!r} (active, at_risk, dormant, long_dormant)")
    if not d.target_stages:
        problems.append("dormancy.target_stages: needs at least one stage (dormant, long_dormant, ...)")
    return problems


def _channel_problems(spec: CampaignSpec) -> list[str]:
    """``[channels]``: known channel names, at least one open channel (costs and capacities have their ranges)."""
    problems = []
    for name in spec.channels:
        if name not in CHANNELS:
            problems.append(f"channels.{name}: unknown channel (known: {', '.join(CHANNELS)})")
    if spec.channels and not any(ch.weekly_capacity > 0 and ch.days for ch in spec.channels.values()):
        problems.append("channels: every channel has weekly_capacity = 0 (or no days): nothing could be planned")
    return problems


def _channel_day_problems(spec: CampaignSpec) -> list[str]:
    """``channels.<name>.days``: weekday names only, at least one."""
    problems = [f"channels.{name}.days: {day!r} is not a weekday ({', '.join(WEEKDAYS)})"
                for name, ch in spec.channels.items() for day in ch.days if day not in WEEKDAYS]
    problems += [f"channels.{name}.days: needs at least one weekday (weekly_capacity = 0 switches a channel off)"
                 for name, ch in spec.channels.items() if not ch.days]
    return problems


def _holdout_problems(spec: CampaignSpec) -> list[str]:
    """``[holdout]``: not exclusive with itself (the shares have their ranges)."""
    if spec.campaign.id in spec.holdout.exclusive_with:
        return [f"holdout.exclusive_with: names this campaign ({spec.campaign.id!r}) itself"]
    return []


def _known_themes(spec: CampaignSpec) -> set[str]:
    """The built-in themes and those the campaign adds in ``themes.text``."""
    return set(THEMES) | set(spec.themes.text)


def _theme_problems(spec: CampaignSpec) -> list[str]:
    """``[themes]``: segments get known themes; added themes have an English opener and known languages."""
    problems = []
    known_themes = _known_themes(spec)
    for seg, theme in spec.themes.segments.items():
        if theme not in known_themes:
            problems.append(f"themes.segments.{seg}: unknown theme {theme!r} (known: {', '.join(sorted(known_themes))})")
    for name, text in spec.themes.text.items():
        for lang in text:
            if lang not in ("en", "zh"):
                problems.append(f"themes.text.{name}: unknown language {lang!r} (en, zh)")
        if "en" not in text:
            problems.append(f"themes.text.{name}: needs an 'en' opener")
    return problems


def _journey_problems(spec: CampaignSpec) -> list[str]:
    """``[journeys]``: at least one step each, on configured channels, no negative gaps, known themes."""
    problems = []
    known_themes = _known_themes(spec)
    for name, j in spec.journeys.items():
        if not j.steps:
            problems.append(f"journeys.{name}: needs at least one step")
        for k, step in enumerate(j.steps, 1):
            if step.channel not in spec.channels:
                problems.append(f"journeys.{name}.steps[{k}]: unknown channel {step.channel!r} "
                                f"(known: {', '.join(spec.channels)})")
        for theme in j.themes:
            if theme not in known_themes:
                problems.append(f"journeys.{name}.themes: unknown theme {theme!r}")
    return problems


def _optimizer_problems(spec: CampaignSpec) -> list[str]:
    """``[optimizer]``: a known method (the delay cost and iterations have their ranges)."""
    if spec.optimizer.method not in METHODS:
        return [f"optimizer.method={spec.optimizer.method!r} should be one of {', '.join(METHODS)}"]
    return []


def _loop_problems(spec: CampaignSpec) -> list[str]:
    """``[learning]`` and ``[followup]``: a known learning method, follow-ups after known outcomes on a channel."""
    problems = []
    if spec.learning.method not in LEARNING_METHODS:
        problems.append(f"learning.method={spec.learning.method!r} should be one of {', '.join(LEARNING_METHODS)}")
    f = spec.followup
    problems += [f"followup.after: unknown outcome {o!r} (known: {', '.join(OUTCOMES)})"
                 for o in f.after if o not in OUTCOMES]
    if f.channel not in CHANNELS:
        problems.append(f"followup.channel={f.channel!r} is not a channel ({', '.join(CHANNELS)})")
    return problems


def _targets_problems(spec: CampaignSpec) -> list[str]:
    """``[targets]``: ``show`` names distinct, printable columns; balance bands increase (each has its range)."""
    problems = []
    show = spec.targets.show
    for i, name in enumerate(show, 1):
        if not 0 < len(name.strip()) <= MAX_COLUMN or not name.isprintable():
            shown = repr(name) if len(name) <= 80 else repr(name[:76]) + " ..."
            problems.append(f"targets.show[{i}]={shown} should be a column name of 1 to {MAX_COLUMN} printable "
                            "characters")
        elif "," in name:
            problems.append(f"targets.show[{i}]={name!r} should not hold a comma (the workbooks list their "
                            "columns comma-separated)")
        elif name == "customer_id" or name in show[:i - 1]:
            problems.append(f"targets.show[{i}]={name!r}: " + ("already in the lists" if name == "customer_id"
                                                                else "named twice"))
    bands = spec.targets.balance_bands
    if any(bands[i] >= bands[i + 1] for i in range(len(bands) - 1)):
        problems.append(f"targets.balance_bands={list(bands)!r} should increase (each the upper end of a band)")
    return problems


def _consent_problems(spec: CampaignSpec) -> list[str]:
    """``consent.assume_when_missing``: known channels only."""
    return [f"consent.assume_when_missing: unknown channel {ch!r}"
            for ch in spec.consent.assume_when_missing if ch not in CHANNELS]


def data_reading_problems(data: DataSpec) -> list[str]:
    """The ``[data]`` reading options that cannot work: encodings, time zone, separators, date formats.

    Also used by :mod:`reactivate.data.io` on a spec built in code, before a file is opened.
    """
    import codecs
    import zoneinfo

    def show(value: str) -> str:  # a value echoed in a message is cut (a spec can hold a megabyte string)
        return repr(value) if len(value) <= 80 else f"{value[:80]!r}… ({len(value):,} characters)"

    problems = []
    encodings = [("data.encoding", data.encoding)]
    encodings += [(f"data.{t}.encoding", getattr(data, t).encoding) for t in TABLES if getattr(data, t).encoding]
    for key, enc in encodings:
        try:
            codecs.getincrementaldecoder(enc)
            "a".encode(enc)  # LookupError for a codec that is not a text encoding (rot13, base64)
        except (LookupError, ValueError, TypeError):
            problems.append(f"{key}={show(enc)} is not a text encoding (e.g. utf-8, gbk, gb18030)")
    if data.timezone:
        try:
            zoneinfo.ZoneInfo(data.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            problems.append(f"data.timezone={show(data.timezone)} is not a time zone name "
                            "(e.g. \"Asia/Shanghai\", \"UTC\")")
    for t in TABLES:
        ti: TableInput = getattr(data, t)
        if len(ti.sep) != 1 or not ti.sep.isascii() or ti.sep in "\"\r\n":
            problems.append(f"data.{t}.sep={show(ti.sep)} should be one ASCII character other than a quote or a line "
                            "break (e.g. \",\", \";\", \"|\" or \"\\t\")")
        if ti.date_format:
            why = _date_format_problem(ti.date_format)
            if why:
                problems.append(f"data.{t}.date_format={show(ti.date_format)} {why}")
    return problems


def _date_format_problem(fmt: str) -> str:
    """Why ``fmt`` is not a strptime format that writes and reads back a day ('' when it is)."""
    sample = dt.datetime(2024, 1, 31, 13, 45, 56, tzinfo=dt.UTC)
    try:
        back = dt.datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as exc:
        reason = str(exc) if len(str(exc)) <= 160 else str(exc)[:160] + "…"
        return f"is not a strptime date format ({reason}); e.g. \"%d/%m/%Y\" or \"%Y%m%d\""
    if back.date() != sample.date():
        return "does not hold a whole date (a year, month and day), e.g. \"%d/%m/%Y\" or \"%Y%m%d\""
    return ""


def _data_problems(spec: CampaignSpec) -> list[str]:
    """``[data]``: every bank column maps to a column of the data contract; the reading options can work."""
    problems = []
    for tname in ("accounts", "transactions", "contacts"):
        ti: TableInput = getattr(spec.data, tname)
        known = set(TABLES[tname].names)
        for src, dst in ti.columns.items():
            if dst not in known:
                problems.append(
                    f"data.{tname}.columns: {src!r} maps to {dst!r}, which is not a {tname} column"
                )
    return problems + data_reading_problems(spec.data)


def _engine_problems(spec: CampaignSpec) -> list[str]:
    """``[engine]``: a known engine."""
    if spec.engine.name not in ENGINES:
        return [f"engine.name={spec.engine.name!r} should be one of {', '.join(ENGINES)}"]
    return []


#: the checks of :func:`_check`, in the order their problems are listed: the declared ranges first
_CHECKS = (range_problems, _campaign_problems, _dormancy_problems, _channel_problems, _channel_day_problems,
           _holdout_problems, _theme_problems, _journey_problems, _optimizer_problems, _loop_problems,
           _consent_problems, _data_problems, _targets_problems, _engine_problems)
