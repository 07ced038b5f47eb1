"""What every web module writes the same way: escaped text, and a language's writing direction."""

from __future__ import annotations

import html

RTL = frozenset({"ar"})  # the languages we serve that are written right to left


def esc(text: object) -> str:
    """Text (or any value's ``str``) safe inside HTML elements and quoted attributes."""
    return html.escape(str(text), quote=True)


def text_dir(lang: str) -> str:
    """The ``dir`` attribute for text in ``lang``."""
    return "rtl" if lang in RTL else "ltr"
