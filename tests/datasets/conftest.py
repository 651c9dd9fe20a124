"""Shared fixtures for the dataset tests: one session-wide cache root."""

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def sb_root(tmp_path_factory):
    """A cache root shared by the dataset tests (each option set is processed once)."""
    return tmp_path_factory.mktemp("sbbench_cache")
