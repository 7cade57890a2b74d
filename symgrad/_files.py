"""Files written completely or not at all: the one atomic writer of symgrad.

Reports, JSON and figures all go through :func:`write_atomic`: the content is written to a
temporary file in the destination's directory, flushed to disk, and then moved over the
destination in one ``os.replace``.  A failed or interrupted write (an exception, Ctrl-C, a full
disk) removes the temporary file and leaves the user's existing file untouched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def _file_mode(target: Path) -> int:
    """The replaced file's permissions, or the usual 0666 less the umask for a new file."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` completely or not at all.

    The content goes to a temporary file in the same directory, is flushed to disk, and then
    replaces ``path`` in one ``os.replace``; on any error the temporary file is removed and the
    original file, if any, is untouched.
    """
    target = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    encoding = None if isinstance(data, bytes) else "utf-8"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        Path(tmp).chmod(_file_mode(target))
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
