import pytest

import sbbench.cli as cli


@pytest.fixture
def sbbench(capsys, monkeypatch):
    """Run ``sbbench ARGS`` in-process; returns (exit code, stdout, stderr). The user's
    ``$SBBENCH_LEADERBOARDS`` is ignored, so no test writes to a real leaderboard."""
    monkeypatch.delenv("SBBENCH_LEADERBOARDS", raising=False)

    def run(*args):
        code = cli.main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
