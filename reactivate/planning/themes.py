"""The theme of each touch: care, the customer's dated event, or their segment's theme.

In order: customers in hardship get a care check-in; a regulatory deadline a dormancy notice; a
maturity a maturity reminder; a birthday a birthday greeting; everyone else their segment's theme
(``themes.segments``, default welcome back). A touch in a week before a festival greets the
festival instead of the plain welcome back. (The opener lines are in :mod:`reactivate.themes`.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.planning.audience import Audience, values_in
from reactivate.scoring.timing import festival_ahead, festivals

CARE = "care_checkin"
DORMANCY_NOTICE = "dormancy_notice"
MATURITY = "maturity_reminder"
BIRTHDAY = "birthday_greeting"
WELCOME_BACK = "welcome_back"
FESTIVAL = "festival_greeting"
#: the themes every plan knows, in the order of the plan's theme categories (segment themes follow)
FIXED_THEMES = (CARE, DORMANCY_NOTICE, MATURITY, BIRTHDAY, WELCOME_BACK, FESTIVAL)
#: the theme of a customer's dated event (``event`` of the scored table)
EVENT_THEMES = {"deadline": DORMANCY_NOTICE, "maturity": MATURITY, "birthday": BIRTHDAY}


@dataclass(frozen=True)
class ThemeChoice:
    """Each customer's theme before festivals, as codes into ``categories``."""

    #: every theme the plan may use: :data:`FIXED_THEMES`, then the segments' own themes
    categories: list[str]
    #: (n,) int
    codes: np.ndarray

    @property
    def names(self) -> np.ndarray:
        """(n,) object: each customer's theme."""
        return np.asarray(self.categories, dtype=object)[self.codes]

    def code(self, theme: str) -> int:
        return self.categories.index(theme)


def segment_theme(spec: CampaignSpec, segment: object) -> str:
    """The theme of a segment's touches: ``themes.segments`` or welcome back."""
    return spec.themes.segments.get(str(segment), WELCOME_BACK)


def base_themes(scored: pd.DataFrame, audience: Audience, spec: CampaignSpec) -> ThemeChoice:
    """Each customer's theme: care, then their dated event, then their segment's theme.

    Parameters
    ----------
    scored : ``event`` per customer (deadline, maturity, birthday or none).
    audience : segments and hardship.
    spec : the campaign (``themes.segments``).

    Returns
    -------
    ThemeChoice
    """
    categories = list(FIXED_THEMES)
    for sg in audience.segment_names:  # one per segment
        if segment_theme(spec, sg) not in categories:
            categories.append(segment_theme(spec, sg))
    # one spare entry (welcome back) for a customer without a segment
    by_segment = np.array([categories.index(segment_theme(spec, sg)) for sg in audience.segment_names]
                          + [categories.index(WELCOME_BACK)], dtype=np.int64)
    rules = [audience.hardship, *(values_in(scored["event"], [ev]) for ev in EVENT_THEMES)]
    themes = [categories.index(CARE), *(categories.index(t) for t in EVENT_THEMES.values())]
    default = by_segment[audience.segment_codes] if len(audience.segment_names) else categories.index(WELCOME_BACK)
    return ThemeChoice(categories, np.select(rules, themes, default=default).astype(np.int64))


def week_festivals(spec: CampaignSpec, weeks: list[dt.date]) -> tuple[list[tuple[dt.date, str]], np.ndarray]:
    """The festivals of the campaign's weeks and, per week, the festival it comes before ("" if none).

    Returns
    -------
    festivals : (date, name) of each festival from the first week to a week after the last
    ahead : (weeks,) object
    """
    found = festivals(spec.campaign.country, weeks[0], weeks[-1] + dt.timedelta(days=7))
    return found, np.array([festival_ahead(wk, found) for wk in weeks], dtype=object)


def touch_themes(themes: ThemeChoice, rows: np.ndarray, festival: np.ndarray) -> np.ndarray:
    """The theme of each touch: the customer's, but a festival greeting instead of the plain welcome back.

    Parameters
    ----------
    themes : each customer's theme (:func:`base_themes`).
    rows : (touches,) the customers touched.
    festival : (touches,) the festival ahead of each touch's week ("" if none).

    Returns
    -------
    (touches,) int: codes into ``themes.categories``.
    """
    base = themes.codes[rows]
    return np.where((base == themes.code(WELCOME_BACK)) & (festival != ""), themes.code(FESTIVAL), base)
