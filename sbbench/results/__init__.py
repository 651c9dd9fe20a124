"""Results files: what ``sbbench run`` writes and ``sbbench submit`` reads.

The layer between the harness (:mod:`sbbench.training`, which writes results files) and
the leaderboards (:mod:`sbbench.leaderboard`, which rank them): both import it, it
imports neither (nor any model).

* ``results.json`` (:func:`make_results`, :func:`write_results`, :func:`load_results`,
  :func:`validate_results`, :func:`content_hash`, :func:`recompute_scores`): one run with
  its test predictions and a content hash, so every score can be recomputed with
  :mod:`sbbench.metrics`. Schema: :data:`RESULTS_SCHEMA` (also
  ``leaderboards/results.schema.json``).
* The data a results file names (:func:`dataset_sha256`, :func:`geometry_hash`,
  :data:`DATASET_VERSIONS` and the pins of the shipped data, :func:`check_dataset_version`,
  :func:`check_against_dataset`, :func:`check_predictions`, :func:`current_version`,
  :func:`dataset_tasks`, :func:`load_named`): the one place above :mod:`sbbench.datasets`
  that asks its registry.

``from sbbench.leaderboard import ...`` still gives the names that were public there.
"""

from ._results import (
    ATOL,
    DEFAULT_METRIC,
    PAPER_METRIC,
    RTOL,
    SCORES,
    check_against_dataset,
    content_hash,
    dataset_sha256,
    geometry_hash,
    load_results,
    make_results,
    overlap_warnings,
    recompute_scores,
    validate_results,
    write_results,
)
from ._schema import FORMAT_VERSION, RESULTS_SCHEMA
from ._versions import (
    DATASET_VERSIONS,
    check_dataset_version,
    check_predictions,
    current_version,
    dataset_tasks,
    known_dataset_versions,
    load_named,
)

__all__ = [
    "ATOL",
    "DATASET_VERSIONS",
    "DEFAULT_METRIC",
    "FORMAT_VERSION",
    "PAPER_METRIC",
    "RESULTS_SCHEMA",
    "RTOL",
    "SCORES",
    "check_against_dataset",
    "check_dataset_version",
    "check_predictions",
    "content_hash",
    "current_version",
    "dataset_sha256",
    "dataset_tasks",
    "geometry_hash",
    "known_dataset_versions",
    "load_named",
    "load_results",
    "make_results",
    "overlap_warnings",
    "recompute_scores",
    "validate_results",
    "write_results",
]
