"""Every byte of a local index checked, as Lucene checks its files with a CRC32 footer.

A segment's files are listed, with their size and CRC32, in the segment's own `checksums.json`, written last;
the manifest records the CRC32 of each segment's list, and `CURRENT` the CRC32 of the manifest. Opening an
index therefore checks everything from the pointer down: the pointer names a manifest that is exactly the
one written, which names lists that are exactly those written, which describe every file.

A segment is opened with every file's size checked and every file of up to `FULL_AT_OPEN` bytes read whole
and summed (a few milliseconds for the seeds, and the files a question reads whole anyway); larger files,
which a question only samples with positioned reads, are summed in full by `qa check` and before a merge
copies their rows.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

LIST = "checksums.json"
FULL_AT_OPEN = 1024 * 1024
_CHUNK = 1 << 20


def crc_bytes(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


def crc_file(path: Path) -> tuple[int, str]:
    """(size, CRC32) of the file at `path`, read in chunks."""
    crc = size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return size, f"{crc:08x}"


def write_list(folder: Path) -> bytes:
    """The checksum list of every file under `folder` (its own excepted), as the bytes to store in `LIST`."""
    sums = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != LIST):
        sums[path.relative_to(folder).as_posix()] = list(crc_file(path))
    return json.dumps({"crc32": sums}, sort_keys=True).encode()


def read_list(folder: Path, expected: str | None) -> dict[str, tuple[int, str]] | None:
    """The checksum list of `folder`, checked against `expected` (its CRC32 as the manifest has it); None
    for a segment written before lists were kept. ValueError naming what is wrong."""
    if expected is None:
        return None
    data = (folder / LIST).read_bytes()
    if crc_bytes(data) != expected:
        raise ValueError(f"{LIST} does not match its checksum")
    sums = json.loads(data)["crc32"]
    return {name: (int(size), str(crc)) for name, (size, crc) in sums.items()}


def verify(folder: Path, sums: dict[str, tuple[int, str]], full: bool, data: dict[str, bytes] | None = None) -> None:
    """Check the files of `folder` against `sums`: every size, and the CRC32 of every file (`full`) or of
    those up to `FULL_AT_OPEN` bytes. `data` holds files already read whole, by name. ValueError when one
    differs or is missing; OSError when one cannot be read."""
    for name, (size, crc) in sums.items():
        path = folder / name
        if data is not None and name in data:
            got = (len(data[name]), crc_bytes(data[name]))
        else:
            found = os.stat(path).st_size
            if found != size:
                raise ValueError(f"{name} has {found} bytes, {size} were written")
            if not full and size > FULL_AT_OPEN:
                continue
            got = crc_file(path)
        if got != (size, crc):
            raise ValueError(f"{name} does not match its checksum (bytes changed on disk)")
