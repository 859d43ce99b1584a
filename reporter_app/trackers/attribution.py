"""Who wrote a comment that reporter-app posted with the tracker account's credentials.

The token or API key often belongs to a shared service account (or to the reporter under another
display name), so the tracker shows that account as the author. A visible last line names the
person: engineers see who asked, and `statuses()` reads it back, so the reporter's own comment is
not announced to them as news, while a colleague's comment through the same account still is.
"""

from __future__ import annotations

import re

VIA = "(via reporter-app)"
_TRAILER = re.compile(r"^— (?P<name>.+) \(via reporter-app\)$")


def with_author(text: str, author: str) -> str:
    """`text` with the trailer line naming `author` (none when the author is unknown)."""
    body = text.strip()
    name = " ".join(author.split())
    return f"{body}\n\n— {name} {VIA}" if name else body


def split_author(body: str) -> tuple[str, str | None]:
    """(text without the trailer, the author it names) or (body, None) for an ordinary comment."""
    text = body.replace("\r\n", "\n").rstrip()
    head, _, last = text.rpartition("\n")
    match = _TRAILER.match(last.strip())
    if match is None:
        return body, None
    return head.rstrip(), match.group("name")


def comment_author(account: str, body: str) -> tuple[str, str]:
    """(author, text) of a comment: the trailer's name when there is one, else the tracker's account."""
    text, named = split_author(body)
    return (named, text) if named else (account, body)
