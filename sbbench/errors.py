"""The errors sbbench raises on purpose, and the exit code of each on the command line.

Three kinds of failure, told apart by their class, not by their message:

==========================  ====  =========================================================
class                       exit  meaning
==========================  ====  =========================================================
:class:`InputError`         2     bad input: an unknown name, a missing or malformed file,
                                  an invalid option or value, a structure the user gave
                                  that cannot be used. One line, ``sbbench: error: ...``.
:class:`RejectedResult`     1     the command ran, and its verdict is "no": a results file
                                  that ``submit`` or ``validate`` rejects. One line.
anything else               70    a bug in sbbench (``EX_SOFTWARE`` of ``sysexits.h``): the
                                  traceback is printed, with a line asking for a report.
==========================  ====  =========================================================

The command line adds exit 2 for a usage error found by :mod:`argparse` and for an
:class:`OSError` (a file that cannot be opened, read or written: the operating system's
message names it), and 130 for Ctrl-C. ``sbbench --debug`` re-raises every error with its
traceback instead of the one-line message.

Compatibility: :class:`InputError` is a :class:`ValueError` and :class:`NotFound` is also a
:class:`FileNotFoundError` and a :class:`KeyError`, so code that catches those (and tests
that expect them) keeps working. A plain ``ValueError`` is what a library function raises
for an invalid argument from its *caller*; reaching the command line, it is a bug, because
the command should have checked the user's input before passing it on.
"""

from __future__ import annotations

__all__ = [
    "EXIT_BUG",
    "EXIT_INPUT",
    "EXIT_REJECTED",
    "InputError",
    "NotFound",
    "RejectedResult",
    "SbbenchError",
]

#: exit code of a bad-input error (:class:`InputError`, argparse usage errors)
EXIT_INPUT = 2
#: exit code of a rejected result (:class:`RejectedResult`)
EXIT_REJECTED = 1
#: exit code of anything else: a bug (``EX_SOFTWARE``)
EXIT_BUG = 70


class SbbenchError(Exception):
    """Base class of the errors sbbench raises on purpose; ``exit_code`` is the CLI's."""

    exit_code: int = EXIT_BUG


class InputError(SbbenchError, ValueError):
    """Bad input from the user: an option, a value, a name, a file or its contents; also
    what the user can fix in their environment (a download that fails or is corrupt).

    The message is shown as one line and should say what was wrong and, where it helps,
    what is valid.
    """

    exit_code = EXIT_INPUT


class NotFound(InputError, FileNotFoundError, KeyError):
    """A file, folder, dataset, model or other named thing that does not exist.

    Also a :class:`FileNotFoundError` and a :class:`KeyError` (where those were raised
    before); unlike a plain :class:`KeyError`, ``str()`` is the message, unquoted.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class RejectedResult(SbbenchError, ValueError):
    """A results file that was read but is not accepted (by ``submit`` or ``validate``)."""

    exit_code = EXIT_REJECTED
