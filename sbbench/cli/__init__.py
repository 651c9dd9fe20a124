"""The ``sbbench`` command line: one module per subcommand.

Each subcommand lives in ``sbbench/cli/<name>.py`` and exposes

* ``HELP``: a one-line description shown by ``sbbench --help``;
* ``add_arguments(parser)``: fills an :class:`argparse.ArgumentParser`;
* ``run(args) -> int``: does the work and returns the exit code.

Subcommands are looked up in :data:`COMMANDS` (a registry, not an if-chain).
Their modules are imported to build ``--help``, so they keep module-level
imports light and import heavy dependencies (torch, PyG, h5py) inside ``run``.

Exit codes (:mod:`sbbench.errors`)
----------------------------------
0   success
1   the command ran but its result is a failure: :class:`~sbbench.errors.RejectedResult`
    (e.g. a rejected submission)
2   bad usage or bad input: :class:`~sbbench.errors.InputError` (unknown name, missing
    file, invalid value), an argparse usage error, or an :class:`OSError` on a file
70  any other exception: a bug in sbbench; the traceback is printed with a request to
    report it (``EX_SOFTWARE``)
130 interrupted with Ctrl-C

Errors with exit 1 and 2 are one line, ``sbbench: error: MESSAGE``; ``--debug`` re-raises
every error with its traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import traceback
import warnings
from collections.abc import Sequence

from sbbench.errors import EXIT_BUG, EXIT_INPUT, InputError, RejectedResult

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


class CLIError(InputError):
    """Bad usage found by a subcommand: one line (``sbbench: error: ...``), exit code 2.

    An :class:`~sbbench.errors.InputError`; raise :class:`~sbbench.errors.RejectedResult`
    for a result the command rejects (exit 1). ``code`` overrides the exit code.
    """

    def __init__(self, message: str, code: int = EXIT_INPUT):
        super().__init__(message)
        self.exit_code = code

    @property
    def code(self) -> int:
        return self.exit_code


#: printed after the traceback of an unexpected exception (exit :data:`EXIT_BUG`)
BUG_NOTICE = (
    "sbbench: internal error: this is a bug in sbbench {version}, not a problem with your "
    "input; please report it with the command line and the traceback above."
)


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
    except (InputError, RejectedResult, OSError) as exc:
        if args.debug:
            raise
        code = exc.exit_code if isinstance(exc, (InputError, RejectedResult)) else EXIT_INPUT
        print(f"sbbench: error: {exc}", file=sys.stderr)
        return code
    except Exception:
        if args.debug:
            raise
        from sbbench import __version__

        traceback.print_exc()
        print(BUG_NOTICE.format(version=__version__), file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
