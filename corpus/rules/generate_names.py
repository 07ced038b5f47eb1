"""Rewrite the ``names`` of every country in the rule tables from Unicode CLDR (via Babel).

Usage, from the project root:

    .venv/bin/python corpus/rules/generate_names.py            # rewrite transit.yaml and unilateral.yaml
    .venv/bin/python corpus/rules/generate_names.py --check    # exit 1 if a file is out of date

Only the ``names:`` block of each ``countries:`` item and the ``names_source:`` line change; comments, order and
every other value stay as a person wrote them. That is why this works on lines instead of loading and dumping
the YAML (a dump would drop the comments that explain the [!] items). A new country needs only its ``code`` and
date: its names are inserted right after the ``code:`` line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import babel
from babel import Locale

HERE = Path(__file__).resolve().parent
FILES = ("transit.yaml", "unilateral.yaml")
# Same order as bot.schema.LANGUAGES; repeated here so the script runs without the project on sys.path.
LANGUAGES = ("en", "zh-Hans", "zh-Hant", "ja", "ko", "ru", "fr", "es", "ar", "de", "pt", "it", "vi", "th", "id")
NAMES_SOURCE = f'names_source: "Unicode CLDR (Babel {babel.__version__})"'

_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*):")
_CODE_LINE = re.compile(r"^(?P<indent>\s*)- code: ['\"]?(?P<code>[A-Z]{2})['\"]?\s*(#.*)?$")


def country_names(code: str) -> dict[str, str]:
    """The CLDR name of ``code`` in every supported language (zh-Hans -> Babel's ``zh_Hans``)."""
    names = {}
    for lang in LANGUAGES:
        name = Locale.parse(lang.replace("-", "_")).territories.get(code)
        if not name:
            raise SystemExit(f"CLDR has no {lang} name for territory {code!r}: is the code right?")
        names[lang] = name
    return names


def _names_block(code: str, field_indent: str) -> list[str]:
    # JSON strings are valid YAML double-quoted scalars, so names with '&', ':' or quotes need no special care.
    lines = [f"{field_indent}names:"]
    lines += [f"{field_indent}  {lang}: {json.dumps(name, ensure_ascii=False)}"
              for lang, name in country_names(code).items()]
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def render(text: str) -> str:
    """``text`` with every country's names regenerated and ``names_source`` updated."""
    out: list[str] = []
    section = ""
    skip_deeper_than: int | None = None  # inside an old names block being dropped
    field_indent = ""
    for line in text.splitlines():
        if skip_deeper_than is not None:
            if line.strip() and _indent(line) <= skip_deeper_than:
                skip_deeper_than = None
            else:
                continue
        if top := _TOP_KEY.match(line):
            section = top.group(1)
        if line.startswith("names_source:"):
            out.append(NAMES_SOURCE)
            continue
        if section == "countries" and (m := _CODE_LINE.match(line)):
            field_indent = m.group("indent") + "  "
            out.append(line)
            out += _names_block(m.group("code"), field_indent)
            continue
        if section == "countries" and field_indent and line.startswith(f"{field_indent}names:"):
            skip_deeper_than = len(field_indent)
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files whose names are out of date")
    args = parser.parse_args(argv)
    stale = []
    for name in FILES:
        path = HERE / name
        old = path.read_text(encoding="utf-8")
        new = render(old)
        if new == old:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote names in {path}")
    if args.check and stale:
        print("out of date (run corpus/rules/generate_names.py): " + ", ".join(str(p) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
