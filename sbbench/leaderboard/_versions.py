"""Which dataset versions the leaderboards accept.

A submission must name a dataset version that the benchmark knows, so that rows on one
leaderboard were scored on the same data. The table below maps a dataset name to its
accepted versions, each with the expected ``sha256`` of the data
(:func:`sbbench.leaderboard.dataset_sha256`) or ``None`` when any content is accepted
for that version (use ``None`` only while a dataset's generation is still changing).

Dataset owners extend :data:`DATASET_VERSIONS` when they release a new version (add a
version, never change a released one). A dataset class may also announce its version
itself: if ``sbbench.datasets`` provides ``version(name) -> str``, that version is
accepted too (with any sha256 unless it is pinned here).
"""

from __future__ import annotations

__all__ = ["DATASET_VERSIONS", "known_dataset_versions", "check_dataset_version"]

#: dataset name -> {version: expected sha256 or None}
DATASET_VERSIONS: dict[str, dict[str, str | None]] = {
    "square": {"1": None},
    "square_order_param": {"1": None},
    "shapes": {"1": None},
    "charged_particle": {"1": None},
    "h2o_modes": {"1": None},
    "qm7x": {"1": None},
}


def known_dataset_versions() -> dict[str, dict[str, str | None]]:
    """The accepted versions: :data:`DATASET_VERSIONS` plus those ``sbbench.datasets`` announces."""
    known = {name: dict(versions) for name, versions in DATASET_VERSIONS.items()}
    try:
        from sbbench import datasets
    except ImportError:
        return known
    version_of = getattr(datasets, "version", None)
    names = getattr(datasets, "names", None)
    if callable(version_of) and callable(names):
        for name in names():
            known.setdefault(name, {}).setdefault(str(version_of(name)), None)
    return known


def check_dataset_version(name: str, version: str, sha256: str) -> None:
    """Raise ValueError unless ``(name, version, sha256)`` is a known dataset release."""
    known = known_dataset_versions()
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(
            f"dataset.name: unknown dataset '{name}'.{hint} Known: {', '.join(sorted(known))}"
        )
    versions = known[name]
    if version not in versions:
        raise ValueError(
            f"dataset.version: unknown version '{version}' of dataset '{name}' "
            f"(known: {', '.join(sorted(versions))}; see sbbench/leaderboard/_versions.py)"
        )
    expected = versions[version]
    if expected is not None and expected != sha256:
        raise ValueError(
            f"dataset.sha256: {sha256} is not the data of {name} version {version} "
            f"(expected {expected})"
        )
