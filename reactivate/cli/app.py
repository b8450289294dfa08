"""``reactivate``: the command line assembled from its command modules (the only module that knows them all).

Each command lives in a module of ``reactivate.cli`` that parses its options, calls one library
function and prints; this module imports them and adds their commands to :data:`app`. A command
module never imports this one.
"""

from __future__ import annotations

from typing import Annotated

import typer

from reactivate import __version__
from reactivate.cli import backtest, demo, loop, plan, report, segments

app = typer.Typer(
    name="reactivate",
    help=(
        "Plan the reactivation of a bank's dormant customers: find who is dormant, profile them, rank "
        "who to wake and when, and build a staged, capacity-aware contact plan.\n\n"
        "Try it:  reactivate demo"
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)

#: the commands in the order ``reactivate --help`` lists them (the ``segments`` group comes last)
COMMANDS = {
    "plan": plan.plan_cmd,
    "rank": plan.rank_cmd,
    "validate": plan.validate_cmd,
    "demo-data": demo.demo_data,
    "demo": demo.demo,
    "run": loop.run_cmd,
    "record": loop.record_cmd,
    "evaluate": loop.evaluate_cmd,
    "report": report.report_cmd,
    "backtest": backtest.backtest_cmd,
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reactivate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    pass


for _name, _command in COMMANDS.items():
    app.command(_name)(_command)
app.add_typer(segments.app, name="segments")


def main() -> None:
    app()
