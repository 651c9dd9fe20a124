"""``sbbench.datasets.qm7x`` file lookup: official_files, reference_file, curation_sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from sbbench.datasets.qm7x import (
    CURATED_NAME,
    CurationSources,
    curation_sources,
    official_files,
    reference_file,
)


@pytest.fixture
def official(tmp_path):
    """A folder as `sbbench fetch qm7x` leaves it, plus files that are not official data."""
    for name in ("8000", "1000", "4000", "curated", "1000.partial"):
        (tmp_path / f"{name}.hdf5").write_bytes(b"")
    (tmp_path / "DupMols.dat").write_text("")
    (tmp_path / "2000.xz").write_bytes(b"")  # an archive, not yet unpacked
    return tmp_path


def test_official_files_in_numeric_order(official):
    assert [p.name for p in official_files(official)] == ["1000.hdf5", "4000.hdf5", "8000.hdf5"]
    assert [p.name for p in official_files(str(official))][0] == "1000.hdf5"  # str accepted


def test_official_files_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="no QM7-X folder .*sbbench fetch qm7x --dest"):
        official_files(tmp_path / "missing")
    (tmp_path / "curated.hdf5").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"no NNNN\.hdf5 files in .*sbbench fetch qm7x"):
        official_files(tmp_path)


def test_sources_of_an_official_folder(official):
    src = curation_sources(official)
    assert src == CurationSources(
        files=official_files(official),
        dupmols=official / "DupMols.dat",
        default_output=official / CURATED_NAME,  # where the qm7x dataset looks
    )


def test_default_folder_is_the_data_folder(official, monkeypatch):
    (official / "qm7x").mkdir()
    for name in ("1000.hdf5", "DupMols.dat"):
        (official / "qm7x" / name).write_bytes(b"")
    monkeypatch.setenv("SBBENCH_DATA", str(official))
    src = curation_sources()
    assert src.files == [official / "qm7x" / "1000.hdf5"]
    assert src.default_output == official / "qm7x" / CURATED_NAME


def test_missing_dupmols_is_an_error_naming_the_fetch(official):
    (official / "DupMols.dat").unlink()
    with pytest.raises(FileNotFoundError, match="DupMols.dat is missing.*--files DupMols"):
        curation_sources(official)


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no QM7-X folder"):
        curation_sources(tmp_path / "nowhere")


def test_a_single_file_needs_an_output(official):
    one = official / "4000.hdf5"
    assert curation_sources(one) == CurationSources([one], dupmols=None, default_output=None)


def test_reference_set(official):
    ref = reference_file()
    assert ref.is_file() and ref.name == "reference_v2.hdf5"  # the served version
    old = reference_file(1)
    assert old.is_file() and old.name == "reference.hdf5"
    for src in (None, official, official / "missing"):  # the source is ignored
        assert curation_sources(src, reference=True) == CurationSources(
            [ref], dupmols=None, default_output=None
        )
        assert curation_sources(src, reference=True, reference_version=1).files == [old]


def test_unknown_reference_version_is_a_clear_error():
    with pytest.raises(ValueError, match=r"reference_version must be one of \[1, 2\], got 3"):
        reference_file(3)


def test_reference_file_missing_is_a_clear_error(monkeypatch):
    import sbbench._paths as paths

    monkeypatch.setattr(paths, "repo_root", lambda: None)
    monkeypatch.setattr(paths.resources, "files", lambda name: Path("/nonexistent"))
    with pytest.raises(FileNotFoundError, match="shipped file qm7x/reference_v2.hdf5 not found"):
        reference_file()
