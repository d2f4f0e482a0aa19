"""Step 2 of reading PGN: the tag section of a piece, split with string methods when it
has the usual shape, else line by line; values are unescaped (`\\"`, `\\\\`)."""

from __future__ import annotations

import re
from typing import Final

_TAG_LINE_RE: Final = re.compile(r'\[([A-Za-z0-9][A-Za-z0-9_+#=:-]*)\s+"(.*)"\]\s*')
_TAG_NAME_RE: Final = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_+#=:-]*)")
_ESCAPE_RE: Final = re.compile(r'\\(["\\])')
_NON_BLANK_LINE_RE: Final = re.compile(r"[^\S\n]*(\S[^\n]*)")

#: Tags, where the movetext starts, and where a repeated tag starts another game.
Header = tuple[dict[str, str], int, int | None]


def fast_header(text: str) -> Header | None:
    """Tags and where the movetext starts, for the usual shape (one tag per line, a
    blank line, the movetext); None for anything else."""
    if not text.startswith("["):
        return None
    blank = text.find("\n\n")
    if blank < 0:
        return None
    section = text[:blank]
    if not section.endswith('"]') or "\\" in section or "\r" in section:
        return None
    # `Name "value"]\n[Name "value"` -> names and values alternate.
    parts = section[1:-2].replace('"]\n[', ' "').split(' "')
    lines = section.count("\n") + 1
    if len(parts) != 2 * lines:
        return None
    pairs = iter(parts)
    tags = dict(zip(pairs, pairs, strict=True))
    names = "".join(tags)
    # Odd names (with `_` or `+`), duplicates, values holding ` "` or a blank line
    # inside the tag section take the careful path.
    if len(tags) != lines or not (names.isascii() and names.isalnum()):
        return None
    body_start = blank + 2
    if text.startswith("[", body_start) or text[body_start : body_start + 1].isspace():
        # Another tag after a blank line, or more blank lines: the careful path decides.
        return None
    return tags, body_start, None


def slow_header(text: str) -> Header | str:
    """The tag section read line by line, or an error message for a malformed one.

    A tag name seen twice starts another game (`split_at`): the lines before belong to
    a game cut off in its tags, glued to the next one. That holds even after a
    malformed line, which is how a game cut in the middle of a tag line is told apart
    from the next game.
    """
    tags: dict[str, str] = {}
    # Names of malformed lines count too: `[Event "Ga` cut short, then `[Event "B"]`.
    seen: set[str] = set()
    position = len(text)
    malformed: str | None = None
    # Non-blank lines only: the regex passes over runs of blank lines in C.
    for line in _NON_BLANK_LINE_RE.finditer(text):
        stripped = line.group(1).rstrip()
        if stripped[0] in "%;":
            continue
        if stripped[0] != "[":
            position = line.start()
            break
        match = _TAG_LINE_RE.fullmatch(stripped)
        if match is None:
            malformed = malformed or f"malformed tag pair: {stripped[:80]!r}"
            name_match = _TAG_NAME_RE.match(stripped)
            if name_match:
                seen.add(name_match.group(1))
        else:
            name, value = match.groups()
            if name in seen:
                return tags, line.start(), line.start()
            seen.add(name)
            tags[name] = _ESCAPE_RE.sub(r"\1", value) if "\\" in value else value
    if malformed:
        return malformed
    return tags, position, None


def split_tags(text: str) -> tuple[dict[str, str], str]:
    """The tag pairs and the movetext of one game's PGN, as a site sends it alone.

    A malformed tag section gives no tags and the text after the first blank line.
    """
    header = fast_header(text) or slow_header(text)
    if isinstance(header, str):
        return {}, text.partition("\n\n")[2]
    tags, body_start, _ = header
    return tags, text[body_start:]
