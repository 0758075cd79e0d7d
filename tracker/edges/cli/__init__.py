"""The ``tracker`` command line. Each group lives in its own module; this one assembles them.

Errors a user can cause are printed as one clear line (``error: field: reason``) with exit
code 2; nothing reaches the terminal as a stack trace.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Annotated, Any

import typer
import typer.main

from tracker.edges.cli import context, store_cmds
from tracker.kernel.errors import TrackerError


def build() -> typer.Typer:
    """Assemble the CLI (imports each group's module lazily, at call time)."""
    app = typer.Typer(
        name="tracker",
        help="Event-sourced case supervision for youth justice services.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.callback()(_global_options)
    store_cmds.register(app)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.endswith("_cmds") and info.name != "store_cmds":
            module = importlib.import_module(f"tracker.edges.cli.{info.name}")
            module.register(app)
    return app


_ROLE = re.compile(r":[a-z]+:`~?([^`]*)`")
_LITERAL = re.compile(r"``([^`]*)``|`([^`]*)`")


def plain(text: str | None) -> str | None:
    """Docstring reST as a terminal shows it: ``x`` and `x` become 'x', :class:`x` becomes x
    (a docstring is written for the code's readers; help is for the operator)."""
    if text is None:
        return None
    text = _ROLE.sub(r"\1", text)
    return _LITERAL.sub(lambda m: f"'{m.group(1) if m.group(1) is not None else m.group(2)}'",
                        text)


def tidy_help(command: Any) -> Any:
    """Help that reads as words: no ``<bool>`` after a flag (Typer labels every parameter
    with its Python type, ``--help`` included) and an argument shown as ``CASE_ID``, not
    ``{case_id}``. Typer carries its own copy of click, so its classes are checked by what
    they have, not by click's types (hence ``Any``: its Command is private to Typer)."""
    command.help = plain(command.help)
    command.short_help = plain(command.short_help)
    help_option = command.get_help_option(command.context_class(command))
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if hasattr(param, "help"):
            param.help = plain(param.help)
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
        elif param.param_type_name == "argument" and param.metavar is None:
            param.metavar = (param.name or "value").upper()
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)
    return command


def _show_version(value: bool) -> None:
    if value:
        try:
            number = package_version("tracker")
        except PackageNotFoundError:  # pragma: no cover - run from a source tree
            number = "unknown"
        print(f"tracker {number}")
        raise typer.Exit()


def _global_options(
    verbose: Annotated[int, typer.Option(
        "--verbose", "-v", count=True, show_default=False,
        help="Log progress to stderr too: -v for info, -vv for debug (default: warnings).")
    ] = 0,
    version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Print the tracker's version and exit.")] = False,
) -> None:
    """Event-sourced case supervision for youth justice services."""
    context.set_verbosity(verbose)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn deliberate errors into one readable line."""
    command = tidy_help(typer.main.get_command(build()))
    try:
        command.main(args=argv)  # click itself reports usage errors, with exit code 2
    except TrackerError as exc:
        sys.exit(context.report(exc))
    finally:
        context.close()


if __name__ == "__main__":  # pragma: no cover
    main()
