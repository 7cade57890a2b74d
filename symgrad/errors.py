"""The exception tree of symgrad.

Bad input is an error; a wrong derivative is data (it comes back inside a result).
Every class also subclasses the builtin it refines, so callers may catch either::

    SymgradError(Exception)
    ├── ParseError(SymgradError, ValueError)       text that is not an expression we accept
    ├── LimitExceeded(SymgradError, ValueError)    a size, depth, order or precision cap
    ├── UnsupportedError(SymgradError, ValueError) valid input symgrad cannot handle
    ├── InputError(SymgradError, TypeError)        arrays or points of the wrong kind
    ├── ConfigError(SymgradError, ValueError)      a bad option (dps, step, scheme, ...)
    ├── CheckFailed(SymgradError, AssertionError)  raised by ``raise_if_failed()``
    └── MissingExtra(SymgradError, ImportError)    an optional dependency is not installed

Messages say what was received and what to do; they quote at most 80 characters of input.
"""

from __future__ import annotations

__all__ = [
    "CheckFailed",
    "ConfigError",
    "InputError",
    "LimitExceeded",
    "MissingExtra",
    "ParseError",
    "SymgradError",
    "UnsupportedError",
]

_QUOTE_LIMIT = 80


def quote(text: str) -> str:
    """Return ``text`` quoted for a message, shortened to at most 80 characters."""
    if len(text) > _QUOTE_LIMIT:
        text = text[: _QUOTE_LIMIT - 3] + "..."
    return repr(text)


class SymgradError(Exception):
    """Base class of every error symgrad raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle message and attributes, so an error raised in a worker process reaches the caller.

        The default pickling calls ``cls(*args)``, which the keyword-only attributes of
        :class:`LimitExceeded` and :class:`ParseError` would refuse.
        """
        return (_restore, (type(self), self.args), dict(self.__dict__))


def _restore(cls: type[SymgradError], args: tuple[object, ...]) -> SymgradError:
    """An unpickled error: ``args`` and (set by pickle afterwards) the attributes, no ``__init__``."""
    error = cls.__new__(cls)
    error.args = args
    return error


class ParseError(SymgradError, ValueError):
    """Text that is not an expression symgrad accepts.

    Attributes
    ----------
    reason : str
        A short machine-readable kind (``"unknown_function"``, ``"forbidden_character"``, ...).
    column : int
        1-based column of the problem in the text (0 when it concerns the whole text).
    snippet : str
        The text with a caret under the problem, for display.
    """

    def __init__(self, message: str, *, reason: str, text: str = "", column: int = 0) -> None:
        self.reason = reason
        self.column = column
        self.text = text
        self.snippet = _caret_snippet(text, column)
        where = f" at column {column}" if column else ""
        full = f"{message}{where}"
        if self.snippet:
            full += "\n" + self.snippet
        super().__init__(full)


def _caret_snippet(text: str, column: int) -> str:
    """Show at most 60 characters of ``text`` around ``column`` with a caret under it."""
    if not text or column <= 0:
        return ""
    start = max(0, column - 1 - 40)
    shown = text[start : start + 60]
    shown = "".join(ch if ch.isprintable() and ch.isascii() else "?" for ch in shown)
    prefix = "..." if start else ""
    return f"  {prefix}{shown}\n  {' ' * (len(prefix) + column - 1 - start)}^"


class LimitExceeded(SymgradError, ValueError):
    """A cap on size, depth, order, precision or time was exceeded.

    Attributes
    ----------
    limit : str
        Which cap (``"too_long"``, ``"too_deep"``, ``"derivative_order"``, ...).
    value, allowed : object
        What was asked for and the largest value allowed.
    """

    def __init__(self, message: str, *, limit: str, value: object = None, allowed: object = None):
        self.limit = limit
        self.value = value
        self.allowed = allowed
        super().__init__(message)


class UnsupportedError(SymgradError, ValueError):
    """Valid input that symgrad cannot handle (a distribution in a derivative, ...)."""


class InputError(SymgradError, TypeError):
    """Evaluation inputs of the wrong kind (strings, objects, booleans, bad shapes)."""


class ConfigError(SymgradError, ValueError):
    """A bad option value: precision, step, scheme, sizes, tolerances."""


class CheckFailed(SymgradError, AssertionError):
    """Raised by ``raise_if_failed()`` when a verdict is ``fail`` or ``inconclusive``."""


class MissingExtra(SymgradError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""
