"""Download the official QM7-X files (Zenodo record 4288677), resumably and verified.

Each archive ``NNNN.xz`` is downloaded to ``NNNN.xz.part`` (resumed with an
HTTP ``Range`` request when the part file exists), its MD5 is checked against
the published value, and it is decompressed (LZMA, streaming) to a temporary
file that is renamed to ``NNNN.hdf5`` only after the stream ended cleanly and
the result opens as HDF5. A failed checksum deletes the part file; a truncated
or corrupt archive deletes the temporary output; so a file named ``NNNN.hdf5``
(or ``DupMols.dat``) in the destination is always complete and verified.

The checksum table is injectable (``md5=...``) so tests can serve their own
small fixtures from a local HTTP server.
"""

from __future__ import annotations

import hashlib
import http.client
import lzma
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

from sbbench._io import atomic_path
from sbbench.errors import InputError

__all__ = [
    "OFFICIAL_FILES",
    "OFFICIAL_MD5",
    "OFFICIAL_URL_BASE",
    "default_data_dir",
    "fetch",
    "parse_file_list",
]

#: Where the official archives live (Hoja et al. 2021, Zenodo record 4288677).
OFFICIAL_URL_BASE = "https://zenodo.org/record/4288677/files"

#: Published MD5 of every file of the record, keyed by the name on the server.
OFFICIAL_MD5: dict[str, str] = {
    "1000.xz": "b50c6a5d0a4493c274368cf22285503e",
    "2000.xz": "4418a813daf5e0d44aa5a26544249ee6",
    "3000.xz": "f7b5aac39a745f11436047c12d1eb24e",
    "4000.xz": "26819601705ef8c14080fa7fc69decd4",
    "5000.xz": "85ac444596b87812aaa9e48d203d0b70",
    "6000.xz": "787fc4a9036af0e67c034a30ad854c07",
    "7000.xz": "5ecce00a188410d06b747cb683d8d347",
    "8000.xz": "c893ae88b8f5c32541c3f024fc1daa45",
    "DupMols.dat": "5d886ccac38877c8cb26c07704dd1034",
}

#: Short names accepted by ``--files``: the eight data files and the duplicate list.
OFFICIAL_FILES: tuple[str, ...] = tuple(k.split(".")[0] for k in OFFICIAL_MD5)

_CHUNK = 1 << 20


def default_data_dir() -> Path:
    """Official QM7-X folder: ``$SBBENCH_DATA/qm7x``, else ``~/.cache/sbbench/data/qm7x``."""
    env = os.environ.get("SBBENCH_DATA")
    base = Path(env).expanduser() if env else Path.home() / ".cache" / "sbbench" / "data"
    return base / "qm7x"


def parse_file_list(spec: str | Iterable[str] | None) -> list[str]:
    """``"1000,8000"`` -> ``["1000", "8000"]``; None -> all nine files. Validates names."""
    if spec is None:
        return list(OFFICIAL_FILES)
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    items = [s.removesuffix(".xz").removesuffix(".hdf5").removesuffix(".dat") for s in items if s]
    bad = [s for s in items if s not in OFFICIAL_FILES]
    if bad or not items:
        raise InputError(
            f"unknown QM7-X file(s) {bad or spec!r}; valid: {', '.join(OFFICIAL_FILES)}"
        )
    return list(dict.fromkeys(items))


def _remote_name(short: str) -> str:
    return "DupMols.dat" if short == "DupMols" else f"{short}.xz"


def _final_name(short: str) -> str:
    return "DupMols.dat" if short == "DupMols" else f"{short}.hdf5"


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(url: str, part: Path, *, progress: bool, timeout: float) -> None:
    """Download ``url`` into ``part``, resuming from its current size if the server allows."""
    from tqdm.auto import tqdm

    offset = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # already complete
            return
        raise InputError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise InputError(f"download of {url} failed: {exc}") from exc
    with resp:
        if offset and resp.status != 206:  # server ignored Range: start over
            offset = 0
        length = resp.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        mode = "ab" if offset else "wb"
        with (
            open(part, mode) as out,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                disable=not progress,
            ) as bar,
        ):
            written = offset
            try:
                for chunk in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
            except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:
                raise InputError(f"download of {url} interrupted ({exc}); rerun to resume") from exc
    # a server that closes the connection early ends the body without an error: compare
    # with Content-Length, so that the MD5 check does not delete a resumable part file
    if total is not None and written < total:
        raise InputError(
            f"download of {url} stopped after {written} of {total} bytes (connection "
            f"closed); {part.name} is kept, rerun to resume"
        )


def _decompress(archive: Path, target: Path) -> None:
    """Stream-decompress an .xz archive to ``target`` via a temporary file (atomic)."""
    try:
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as out, open(archive, "rb") as src:
                dec = lzma.LZMADecompressor()
                for chunk in iter(lambda: src.read(_CHUNK), b""):
                    out.write(dec.decompress(chunk))
                    if dec.eof:
                        break
                if not dec.eof:
                    raise InputError(
                        f"{archive}: truncated LZMA stream (end-of-stream marker missing)"
                    )
            _check_hdf5(tmp, archive)
    except lzma.LZMAError as exc:
        raise InputError(f"{archive}: corrupt LZMA data ({exc})") from exc


def _check_hdf5(path: Path, archive: Path) -> None:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            len(f)
    except OSError as exc:
        raise InputError(f"{archive}: decompressed data is not a valid HDF5 file ({exc})") from exc


def fetch(
    dest: str | os.PathLike | None = None,
    files: str | Iterable[str] | None = None,
    *,
    url_base: str = OFFICIAL_URL_BASE,
    md5: Mapping[str, str] | None = None,
    keep_archives: bool = False,
    progress: bool = True,
    timeout: float = 60.0,
) -> list[Path]:
    """Download, verify and decompress official QM7-X files into ``dest``.

    Parameters
    ----------
    dest : path-like, optional
        Destination folder; default :func:`default_data_dir`.
    files : str or iterable of str, optional
        Short names (``"1000"`` ... ``"8000"``, ``"DupMols"``), e.g. ``"1000,8000"``;
        default all nine.
    url_base : str
        Base URL; file ``NAME`` is fetched from ``url_base + "/" + NAME``.
    md5 : mapping, optional
        Expected MD5 per remote file name; default: the module-level table
        :data:`OFFICIAL_MD5` (the published values), looked up at call time so
        tests and mirrors can inject their own.
    keep_archives : bool
        Keep the verified ``.xz`` archives after decompression.
    progress : bool
        Show tqdm progress bars.
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    list of Path
        The final files (``NNNN.hdf5`` / ``DupMols.dat``), in the requested order.

    Raises
    ------
    ValueError
        On a network error, a checksum mismatch (the partial download is
        deleted) or a corrupt/truncated archive (nothing is written).
    """
    md5 = OFFICIAL_MD5 if md5 is None else md5
    dest = Path(dest) if dest is not None else default_data_dir()
    dest.mkdir(parents=True, exist_ok=True)
    done: list[Path] = []
    for short in parse_file_list(files):
        remote = _remote_name(short)
        final = dest / _final_name(short)
        if final.is_file():
            done.append(final)
            continue
        if remote not in md5:
            raise ValueError(f"no expected MD5 known for {remote}")
        archive = dest / remote
        if not archive.is_file():  # a verified archive from an earlier run can be reused
            part = dest / f"{remote}.part"
            _download(f"{url_base.rstrip('/')}/{remote}", part, progress=progress, timeout=timeout)
            got = _md5(part)
            if got != md5[remote]:
                part.unlink()
                raise InputError(
                    f"checksum mismatch for {remote}: MD5 {got}, expected {md5[remote]}; "
                    "the partial download was deleted, rerun to download again"
                )
            os.replace(part, archive)
        elif _md5(archive) != md5[remote]:
            archive.unlink()
            raise InputError(f"checksum mismatch for existing {archive}; deleted, rerun")
        if short == "DupMols":
            os.replace(archive, final)
        else:
            try:
                _decompress(archive, final)
            except ValueError:
                archive.unlink()
                raise
            if not keep_archives:
                archive.unlink()
        done.append(final)
    return done
