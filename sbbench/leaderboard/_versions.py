"""Which dataset versions the leaderboards accept.

A submission must name a dataset version that the benchmark knows, so that rows on one
leaderboard were scored on the same data. A version is known if

* it is the current ``version`` class attribute of the dataset class registered in
  :mod:`sbbench.datasets` (``str(get_class(name).version)``; the harness records exactly
  this string), or
* it is listed in :data:`DATASET_VERSIONS` below.

:data:`DATASET_VERSIONS` maps a dataset name to ``{version: sha256 or None}``. Dataset
owners add an entry to pin the sha256 of a released version's data
(:func:`sbbench.leaderboard.dataset_sha256` of the loaded dataset with its default
options), or to keep accepting a retired version. ``None`` accepts any content.
"""

from __future__ import annotations

import difflib

__all__ = ["DATASET_VERSIONS", "known_dataset_versions", "check_dataset_version"]

#: dataset name -> {version: expected sha256 of the data, or None for any}
DATASET_VERSIONS: dict[str, dict[str, str | None]] = {}


def _registry_names() -> list[str]:
    try:
        from sbbench.datasets import names
    except ImportError:
        return []
    return list(names())


def known_dataset_versions(name: str) -> dict[str, str | None]:
    """Accepted versions of dataset ``name`` -> pinned sha256 (or None).

    Raises
    ------
    ValueError
        If no version of ``name`` is known (unknown dataset), with a close-match hint.
    """
    versions = dict(DATASET_VERSIONS.get(name, {}))
    problem = ""
    try:
        from sbbench.datasets import get_class

        versions.setdefault(str(get_class(name).version), None)
    except (ImportError, ValueError) as exc:  # registry absent, or name not registered
        problem = f" ({exc})" if isinstance(exc, ImportError) else ""
    if not versions:
        valid = sorted(set(_registry_names()) | set(DATASET_VERSIONS))
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(
            f"dataset.name: unknown dataset '{name}'{problem}.{hint} "
            f"Known: {', '.join(valid) or '(none)'}"
        )
    return versions


def check_dataset_version(name: str, version: str, sha256: str) -> None:
    """Raise ValueError unless ``(name, version, sha256)`` is a known dataset release."""
    versions = known_dataset_versions(name)
    if version not in versions:
        raise ValueError(
            f"dataset.version: unknown version '{version}' of dataset '{name}' "
            f"(known: {', '.join(sorted(versions))})"
        )
    expected = versions[version]
    if expected is not None and expected != sha256:
        raise ValueError(
            f"dataset.sha256: {sha256} is not the data of {name} version {version} "
            f"(expected {expected})"
        )
