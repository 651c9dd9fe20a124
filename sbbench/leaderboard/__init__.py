"""Leaderboards: what ``sbbench submit`` adds a results file to, ranked.

* ``results.json`` lives in :mod:`sbbench.results` (:func:`make_results`,
  :func:`write_results`, :func:`load_results`, :func:`validate_results`, ...); the names
  that were public here are re-exported, so ``from sbbench.leaderboard import ...`` keeps
  working. The leaderboard reaches the datasets only through :mod:`sbbench.results`.
* ``leaderboards/<dataset>.csv`` (:func:`submit`, :func:`read_leaderboard`,
  :func:`rank_rows`): one row per accepted submission. Schema: :data:`ROW_SCHEMA`
  (also ``leaderboards/schema.json``).
* A folder of boards (:func:`available_boards`, :func:`select_boards`,
  :func:`read_boards`, :func:`format_boards`: what ``sbbench leaderboard`` shows) and
  where a submitted row ranks (:func:`submission_rank`: what ``sbbench submit`` says).
"""

from ..results import (
    ATOL,
    DATASET_VERSIONS,
    DEFAULT_METRIC,
    FORMAT_VERSION,
    PAPER_METRIC,
    RESULTS_SCHEMA,
    RTOL,
    SCORES,
    check_dataset_version,
    content_hash,
    dataset_sha256,
    geometry_hash,
    known_dataset_versions,
    load_results,
    make_results,
    overlap_warnings,
    recompute_scores,
    validate_results,
    write_results,
)
from ._board import (
    GROUP_COLUMNS,
    RANK_COLUMN,
    TIE_DIGITS,
    Submission,
    SubmissionRejected,
    default_leaderboard_dir,
    format_leaderboard,
    group_key,
    leaderboard_path,
    rank_rows,
    read_leaderboard,
    row_from_results,
    submit,
)
from ._discover import available_boards, format_boards, read_boards, select_boards
from ._schema import ROW_SCHEMA, row_columns, write_schema_files
from ._standing import submission_rank

__all__ = [
    "GROUP_COLUMNS",
    "RANK_COLUMN",
    "PAPER_METRIC",
    "SCORES",
    "Submission",
    "SubmissionRejected",
    "TIE_DIGITS",
    "available_boards",
    "default_leaderboard_dir",
    "format_boards",
    "format_leaderboard",
    "group_key",
    "leaderboard_path",
    "rank_rows",
    "read_boards",
    "read_leaderboard",
    "row_from_results",
    "select_boards",
    "submission_rank",
    "submit",
    "ATOL",
    "DATASET_VERSIONS",
    "DEFAULT_METRIC",
    "FORMAT_VERSION",
    "RESULTS_SCHEMA",
    "ROW_SCHEMA",
    "RTOL",
    "check_dataset_version",
    "content_hash",
    "dataset_sha256",
    "geometry_hash",
    "known_dataset_versions",
    "load_results",
    "make_results",
    "overlap_warnings",
    "recompute_scores",
    "row_columns",
    "validate_results",
    "write_results",
    "write_schema_files",
]
