"""Files written completely or not at all, and only over files symgrad wrote itself.

Reports, JSON and figures all go through :func:`write_atomic`: the content is written to a
temporary file in the destination's directory, flushed to disk, and then moved over the
destination in one ``os.replace``.  A failed or interrupted write (an exception, Ctrl-C, a full
disk) removes the temporary file and leaves the user's existing file untouched.

**Nothing of the user's is lost.**  Every file symgrad writes carries a generator mark
(:func:`stamp` for documents, :func:`figure_metadata` for figures):

=========  ==========================================================================
HTML       ``<meta name="generator" content="symgrad ...">`` in the head
Markdown   a first line ``<!-- generator: symgrad ... -->``
JSON       a first key ``"generator": "symgrad ..."``
PNG        the ``Software`` text chunk; SVG and PDF: the ``Creator`` metadata
=========  ==========================================================================

:func:`check_destination` accepts an existing file only when it carries the mark (or the caller
forces it), refuses directories, devices and pipes always, and checks that the directory exists
and is writable: the command line calls it *before* a long computation, and
:func:`write_output` calls it again just before writing.  A new file is created with a hard
link from the finished temporary file, which fails instead of replacing a file that appeared in
the meantime.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import tempfile
from pathlib import Path

from symgrad.errors import ConfigError, quote

__all__ = [
    "GENERATOR",
    "check_destination",
    "figure_metadata",
    "stamp",
    "write_atomic",
    "write_output",
    "written_by_symgrad",
]

GENERATOR = "symgrad"
_SCAN = 65536  # bytes read from each end of an existing file when looking for the mark
_MARKS = (
    re.compile(rb'<meta name="generator" content="symgrad[^"]*">'),  # HTML
    re.compile(rb"\A<!-- generator: symgrad[^\n]*-->"),  # Markdown
    re.compile(rb'\A\{\s*"generator":\s*"symgrad'),  # JSON
    re.compile(rb"tEXtSoftware\x00symgrad"),  # PNG
    re.compile(rb"<dc:creator>\s*<cc:Agent>\s*<dc:title>symgrad"),  # SVG
    re.compile(rb"/Creator \(symgrad"),  # PDF
)
_CHARSET = re.compile(r"<meta charset=[^>]*>", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_NO_LINK = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS})


# -- the generator mark ---------------------------------------------------------------------


def stamp(text: str, fmt: str, generator: str = GENERATOR) -> str:
    """``text`` (an ``html``, ``markdown`` or ``json`` document) with the generator mark."""
    if fmt == "html":
        meta = f'<meta name="generator" content="{_attribute(generator)}">'
        head = _CHARSET.search(text) or _HEAD.search(text)  # the mark goes right after it
        if head is None:
            msg = "an HTML page without <head> cannot carry the generator mark"
            raise ValueError(msg)
        return f"{text[: head.end()]}\n{meta}{text[head.end() :]}"
    if fmt == "markdown":
        return f"<!-- generator: {generator.replace('--', '- -')} -->\n{text}"
    if fmt == "json":
        data = json.loads(text)
        if not isinstance(data, dict):
            msg = "only a JSON object can carry the generator key"
            raise ValueError(msg)
        return json.dumps({"generator": generator, **data}, indent=2)
    msg = f"no generator mark for format {fmt!r}"
    raise ValueError(msg)


def figure_metadata(fmt: str, generator: str = GENERATOR) -> dict[str, str]:
    """``savefig(metadata=...)`` carrying the mark: PNG ``Software``, SVG and PDF ``Creator``."""
    return {"Software" if fmt == "png" else "Creator": generator}


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def written_by_symgrad(path: str | os.PathLike[str]) -> bool:
    """True when the regular file ``path`` carries symgrad's generator mark."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(_SCAN)
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(size - _SCAN, len(head)))
            tail = handle.read(_SCAN)
    except OSError:
        return False
    return any(mark.search(part) for mark in _MARKS for part in (head, tail))


# -- where a file may go ----------------------------------------------------------------------


def check_destination(
    path: str | os.PathLike[str], *, option: str = "output", force: bool = False
) -> Path:
    """The path, once it is a place symgrad may write to; else ``ConfigError`` saying why.

    Refused: a directory, device, pipe or socket; a missing or unwritable directory; an
    existing file without symgrad's generator mark unless ``force``.
    """
    target = Path(path).expanduser()
    shown = quote(str(path))
    if not str(path).strip():
        _refuse(f"{option} needs a file name (got {shown})")
    if "\x00" in str(path):  # the operating system refuses it (ValueError from every call)
        _refuse(f"{option} {shown} contains a NUL character, which no file name may hold")
    if str(path).endswith(("/", os.sep)) or target.name in ("", ".", ".."):
        _refuse(f"{option} {shown} names a directory; name a file inside it")
    if os.path.lexists(target):
        _check_existing(target, shown, option, force=force)
    parent = target.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        _refuse(f"cannot write {shown}: the directory {quote(str(parent))} {what}")
    if not os.access(parent, os.W_OK | os.X_OK):
        _refuse(f"cannot write {shown}: the directory {quote(str(parent))} is not writable")
    return target


def _check_existing(target: Path, shown: str, option: str, *, force: bool) -> None:
    try:
        mode = target.stat().st_mode
    except OSError:
        mode = None  # a broken symbolic link: there is nothing to read, only a name to lose
    if mode is not None and stat.S_ISDIR(mode):
        _refuse(f"{option} {shown} is a directory; name a file inside it")
    if mode is not None and not stat.S_ISREG(mode):
        _refuse(f"{option} {shown} is not a regular file (a device, pipe or socket)")
    if not force and not written_by_symgrad(target):
        _refuse(
            f"{option} {shown} exists and was not written by symgrad; "
            "choose another name, or pass --force to replace it"
        )


def _refuse(message: str) -> None:
    raise ConfigError(message)


# -- writing ---------------------------------------------------------------------------------


def write_output(
    path: str | os.PathLike[str], data: str | bytes, *, option: str = "output", force: bool = False
) -> Path:
    """:func:`check_destination` once more, then :func:`write_atomic` without clobbering."""
    target = check_destination(path, option=option, force=force)
    return write_atomic(target, data, overwrite=os.path.lexists(target))


def _file_mode(target: Path) -> int:
    """The replaced file's permissions, or the usual 0666 less the umask for a new file."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(
    path: str | os.PathLike[str], data: str | bytes, *, overwrite: bool = True
) -> Path:
    """Write ``data`` to ``path`` completely or not at all.

    The content goes to a temporary file in the same directory, is flushed to disk, and then
    replaces ``path`` in one ``os.replace``; on any error the temporary file is removed and the
    original file, if any, is untouched.  With ``overwrite=False`` the finished file is linked
    into place instead, and a file that exists by then is never replaced (``FileExistsError``).
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
        if overwrite or not _link(Path(tmp), target):
            Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _link(tmp: Path, target: Path) -> bool:
    """Link ``tmp`` to the new name ``target`` (never replacing); False where links are missing."""
    try:
        os.link(tmp, target)
    except OSError as exc:
        if exc.errno in _NO_LINK:
            return False
        raise
    with contextlib.suppress(OSError):
        tmp.unlink()
    return True
