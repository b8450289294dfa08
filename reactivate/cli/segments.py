"""``reactivate segments``: fit and save a segment model, describe the segments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reactivate.cli.common import (
    Accounts,
    AsOf,
    Campaign,
    Contacts,
    EngineName,
    Out,
    SegmentsModel,
    Spec,
    Transactions,
    engine_campaign,
    fail,
    guarded,
    parse_date,
    say,
)

app = typer.Typer(
    name="segments",
    help=(
        "Profile the dormant customers into segments: fit a model once and reuse it week after week "
        "(reactivate plan --segments-model), and print profile cards.\n\n"
        "Example:\n\n"
        "    reactivate segments fit --as-of 2026-11-30 --accounts book/accounts.csv --model segments.json"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("fit")
def fit_cmd(
    as_of: AsOf,
    model: Annotated[Path, typer.Option("--model", help="Where to save the fitted model (JSON).")],
    accounts: Accounts = None,
    transactions: Transactions = None,
    contacts: Contacts = None,
    campaign: Campaign = None,
    segments: Spec = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the fit summary as JSON on stdout.")] = False,
    engine: EngineName = None,
) -> None:
    """Fit the segmentation on the dormant customers and save it as a model file.

    The file (plain JSON, loads without running code) holds the scaler, centroids, feature list,
    segment ids and names, the resolved spec and the segment shares at fit time. Pass it to
    reactivate plan --segments-model so the segments keep their ids and names week after week.

    Example:

        reactivate segments fit --as-of 2026-11-30 --accounts book/accounts.csv
        --transactions book/transactions.csv --segments segments/default.toml --model segments-2026-11.json
    """
    day = parse_date(as_of, "--as-of")
    campaign = engine_campaign(campaign, engine)

    def go():
        from reactivate.jobs.segments import fit_segments
        from reactivate.segmentation.store import check_model_path

        check_model_path(model)  # before the fit: not over a folder or a file that is not a model
        return fit_segments(as_of=day, model_path=model, accounts=accounts, transactions=transactions,
                            contacts=contacts, campaign=campaign, segments=segments)

    info = guarded(go)
    lines = [f"fitted {len(info['segments'])} segments on {info['targets']:,} dormant customers; {info['k_reason']}"]
    lines += [f"  {s['segment_id']:>10}  {s['share']:6.1%}  {s['name']}" for s in info["segments"]]
    lines.append(f"  saved to {model}")
    say("\n".join(lines))
    if json_out:
        typer.echo(json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False))


@app.command("describe")
def describe_cmd(
    as_of: AsOf,
    out: Out,
    accounts: Accounts = None,
    transactions: Transactions = None,
    contacts: Contacts = None,
    campaign: Campaign = None,
    segments: Spec = None,
    segments_model: SegmentsModel = None,
    engine: EngineName = None,
) -> None:
    """Print a profile card per segment and write segments.csv, segments.json and run.json into OUT.

    Segments are fitted on the data, or assigned by a saved model (--segments-model); with a saved
    model the cards are followed by the drift since the fit.

    Example:

        reactivate segments describe --as-of 2026-11-30 --accounts book/accounts.csv
        --segments-model segments-2026-11.json --out segments-2026-11-30
    """
    day = parse_date(as_of, "--as-of")
    campaign = engine_campaign(campaign, engine)

    def go():
        from reactivate.jobs.segments import describe_to

        return describe_to(out, as_of=day, accounts=accounts, transactions=transactions, contacts=contacts,
                           campaign=campaign, segments=segments, segments_model=segments_model)

    d = guarded(go)
    from reactivate.jobs.segments import profile_cards

    say(profile_cards(d.segments))
    if d.drift is not None:
        say(f"\ndrift since the fit: {d.drift['reason']}")
    say(f"\noutputs in {out}/ (segments.csv, segments.json, segment_sizes.png, segment_traits.png)")


@app.command("tune")
def tune_cmd(
    as_of: AsOf,
    out: Out,
    accounts: Accounts = None,
    transactions: Transactions = None,
    contacts: Contacts = None,
    campaign: Campaign = None,
    segments: Spec = None,
    k_min: Annotated[int, typer.Option("--k-min", help="Smallest k to score.")] = 2,
    k_max: Annotated[int, typer.Option("--k-max", help="Largest k to score.")] = 12,
) -> None:
    """Score each number of segments k and recommend one, with the reason.

    For every k: silhouette (on a sample), bootstrap stability (adjusted Rand index of refits),
    Davies-Bouldin, inertia per customer and the smallest segment's share, computed on a sample of at
    most 20,000 clustered customers. Writes k_scores.csv, k_scores.png and k_choice.json into OUT. The
    recommendation is the k that `segments fit` would choose for this range; set it as algorithm.k in
    the segmentation spec to fix it.

    Example:

        reactivate segments tune --as-of 2026-11-30 --accounts book/accounts.csv
        --transactions book/transactions.csv --k-min 2 --k-max 12 --out k-2026-11-30
    """
    day = parse_date(as_of, "--as-of")
    check_k_options(k_min, k_max)

    def go():
        from reactivate.jobs.segments import tune_to

        return tune_to(out, as_of=day, k_min=k_min, k_max=k_max, accounts=accounts, transactions=transactions,
                       contacts=contacts, campaign=campaign, segments=segments)

    tn = guarded(go)
    say(f"scores on {tn.sample:,} of {tn.clustered:,} clustered customers:")
    say(tn.table.to_string(index=False))
    say(f"recommended {tn.reason}")
    say(f"outputs in {out}/ (k_scores.csv, k_scores.png, k_choice.json)")


def check_k_options(k_min: int, k_max: int) -> None:
    """``--k-min`` and ``--k-max`` in the range of the spec's ``algorithm.k_min`` / ``k_max`` (2..MAX_K), in order."""
    from reactivate.segmentation.spec import MAX_K

    for option, k in (("--k-min", k_min), ("--k-max", k_max)):
        if not 2 <= k <= MAX_K:
            raise fail(f"{option}={k} should be between 2 and {MAX_K} (segments an analyst can still tell apart)")
    if k_min > k_max:
        raise fail(f"need 2 <= --k-min <= --k-max, got {k_min} and {k_max}")
