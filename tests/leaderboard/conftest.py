import pytest

from tests.leaderboard._factory import register_toy


@pytest.fixture
def toy_known(monkeypatch):
    """Dataset 'toy' version '1' is known to the leaderboard during the test."""
    return register_toy(monkeypatch)
