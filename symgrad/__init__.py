"""symgrad: symbolic derivatives, compiled to fast NumPy, cross-checked at arbitrary precision."""

from __future__ import annotations

__version__ = "0.1.0"

__all__: list[str] = []
