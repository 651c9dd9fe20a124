"""The ``sbbench`` command line: one module per subcommand.

Each subcommand lives in ``sbbench/cli/<name>.py`` and exposes

* ``HELP``: a one-line description shown by ``sbbench --help``;
* ``add_arguments(parser)``: fills an :class:`argparse.ArgumentParser`;
* ``run(args) -> int``: does the work and returns the exit code.

Subcommands are looked up in :data:`COMMANDS` (a registry, not an if-chain).
Their modules are imported to build ``--help``, so they keep module-level
imports light and import heavy dependencies (torch, PyG, h5py) inside ``run``.

Exit codes
----------
0  success
1  the command ran but its result is a failure (e.g. a rejected submission)
2  bad usage or bad input (unknown name, missing file, invalid value)
130 interrupted with Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import warnings
from collections.abc import Sequence

# name -> module (relative to this package). Order is the order shown in --help.
COMMANDS: dict[str, str] = {
    "run": "run",
    "curie": "curie",
    "reproduce": "reproduce",
    "demo": "demo",
    "symmetry": "symmetry",
    "submit": "submit",
    "validate": "validate",
    "leaderboard": "leaderboard",
    "ls": "ls",
    "sweep": "sweep",
    "fetch": "fetch",
    "qm7x": "qm7x",
}


class CLIError(Exception):
    """An error shown to the user as one line (``sbbench: error: ...``), exit code 2."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


@contextlib.contextmanager
def _one_line_warnings(enabled: bool = True):
    """Show warnings as ``sbbench: warning: MESSAGE`` (one line, no source path) while a
    command runs; ``--debug`` keeps Python's default display."""
    if not enabled:
        yield
        return

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"sbbench: warning: {text}", file=file or sys.stderr)

    old = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = old


def _load(name: str):
    return importlib.import_module(f"{__name__}.{COMMANDS[name]}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sbbench",
        description="sbbench: a benchmark suite for symmetry breaking in molecular ML.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'sbbench COMMAND --help' for examples of each command.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("--version", action="store_true", help="print the sbbench version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        mod = _load(name)
        p = sub.add_parser(
            name,
            help=mod.HELP,
            description=(mod.__doc__ or mod.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sbbench`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        import difflib

        close = difflib.get_close_matches(argv[0], list(COMMANDS), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        print(
            f"sbbench: error: unknown command '{argv[0]}'.{hint} "
            f"Valid commands: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    args = parser.parse_args(argv)
    if args.version:
        from sbbench import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with _one_line_warnings(enabled=not args.debug):
            return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("sbbench: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, FileNotFoundError, KeyError) as exc:
        if args.debug:
            raise
        code = exc.code if isinstance(exc, CLIError) else 2
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"sbbench: error: {msg}", file=sys.stderr)
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
