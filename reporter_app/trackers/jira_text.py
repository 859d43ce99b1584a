"""Jira ticket text: Atlassian Document Format for Cloud (v3), wiki markup for Data Center (v2).

ADF rules learnt from rejected requests (see ../shared/notes/tracker-apis.md, Jira pitfalls):
an empty text node fails the whole request with INVALID_INPUT, so nothing here emits one; line
breaks inside prose are hardBreak nodes, never "\\n" in a paragraph's text; logs go in codeBlocks.
Descriptions are capped at 32,767 characters: log excerpts shrink first, then the text is cut.

The visible last line `reporter-app key: ra-...` (ADF has no hidden comments) marks our own
comments, so statuses can tell them from people's and a retried "+1" is not posted twice. The line
above it (same paragraph), `reporter-app installation: <tag>`, is what the count of distinct
installations reads back (trackers/installations.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reporter_app.clock import utc_iso
from reporter_app.model import Report
from reporter_app.render import plain_sections
from reporter_app.trackers.fitting import Upload, human_size
from reporter_app.trackers.installations import InstallationCount, installation_line
from reporter_app.trackers.markdown_text import log_excerpts

KEY_LINE = "reporter-app key: "
OCCURRENCE_LINE = "+1 occurrence: reported again by "
PREFORMATTED = {"System", "Not collected", "Attachment notes"}
MAX_DESCRIPTION = 32767
MAX_OCCURRENCE_EXCERPT = 600
Node = dict[str, Any]


# -- ADF ------------------------------------------------------------------------------------------
def _text(text: str, marks: Sequence[str] = ()) -> Node:
    node: Node = {"type": "text", "text": text}
    if marks:
        node["marks"] = [{"type": m} for m in marks]
    return node


def _paragraph_of_lines(lines: Sequence[str], marks: Sequence[str] = ()) -> Node | None:
    content: list[Node] = []
    for line in lines:
        if not line.strip():
            continue
        if content:
            content.append({"type": "hardBreak"})
        content.append(_text(line.rstrip(), marks))
    return {"type": "paragraph", "content": content} if content else None


def adf_paragraphs(text: str) -> list[Node]:
    """Prose as paragraphs (split at blank lines), lines joined by hardBreaks, no empty nodes."""
    out: list[Node] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        node = _paragraph_of_lines(block.split("\n"))
        if node is not None:
            out.append(node)
    return out


def adf_heading(text: str, level: int = 3) -> Node:
    return {"type": "heading", "attrs": {"level": level}, "content": [_text(text)]}


def adf_code(text: str, language: str = "text") -> Node | None:
    body = text.rstrip("\n")
    if not body.strip():
        return None
    return {"type": "codeBlock", "attrs": {"language": language}, "content": [_text(body)]}


def adf_bullets(items: Sequence[str]) -> Node | None:
    entries = [{"type": "listItem", "content": [p]} for p in (_paragraph_of_lines([i]) for i in items) if p]
    return {"type": "bulletList", "content": entries} if entries else None


def adf_expand(title: str, inner: Node) -> Node:
    # "expand" is ADF's collapsed section: a long log excerpt stays one line until someone opens it.
    return {"type": "expand", "attrs": {"title": title}, "content": [inner]}


def adf_doc(blocks: Sequence[Node | None]) -> Node:
    return {"type": "doc", "version": 1, "content": [b for b in blocks if b is not None]}


def _adf_evidence(uploads: Sequence[Upload], notes: Sequence[str], excerpt_lines: int) -> list[Node | None]:
    blocks: list[Node | None] = []
    if uploads:
        blocks.append(adf_heading("Attachments"))
        blocks.append(adf_bullets([f"{u.filename} ({u.attachment.kind}, {human_size(len(u.data))})"
                                   for u in uploads]))
    excerpts = log_excerpts(uploads, excerpt_lines)
    if excerpts:
        blocks.append(adf_heading("Log excerpts"))
        for e in excerpts:
            code = adf_code(e.text)
            if code is not None:
                what = f"last {e.lines} of {e.total_lines} lines" if e.lines < e.total_lines else f"{e.lines} lines"
                blocks.append(adf_expand(f"{e.name} ({what})", code))
    if notes:
        blocks.append(adf_heading("Changed to fit the tracker"))
        blocks.append(adf_bullets(list(notes)))
    return blocks


def adf_description(report: Report, uploads: Sequence[Upload], notes: Sequence[str],
                    excerpt_lines: int = 40) -> Node:
    head: list[Node | None] = []
    for heading, body in plain_sections(report):
        head.append(adf_heading(heading))
        head.extend([adf_code(body)] if heading in PREFORMATTED else adf_paragraphs(body))
    footer = _paragraph_of_lines(_marker_lines(report, _footer(report)))
    lines = excerpt_lines
    while True:
        doc = adf_doc([*head, *_adf_evidence(uploads, notes, lines), footer])
        if len(json.dumps(doc, ensure_ascii=False)) <= MAX_DESCRIPTION or lines == 0:
            break
        lines = lines // 2 if lines > 4 else 0
    if len(json.dumps(doc, ensure_ascii=False)) > MAX_DESCRIPTION:
        # Still too long (a huge description): drop blocks from the end, keep the key line last.
        cut = _paragraph_of_lines(["[reporter-app: the rest of the description was cut to fit Jira's limit]"])
        blocks: list[Node | None] = list(doc["content"][:-1])
        while blocks and len(json.dumps(adf_doc([*blocks, cut, footer]), ensure_ascii=False)) > MAX_DESCRIPTION:
            blocks.pop()
        doc = adf_doc([*blocks, cut, footer])
    return doc


def adf_occurrence(report: Report, uploads: Sequence[Upload], notes: Sequence[str], when: datetime,
                   installations: InstallationCount | None = None) -> Node:
    blocks: list[Node | None] = list(_occurrence_head(report, when, adf=True, installations=installations))
    blocks.extend(_adf_evidence(uploads, notes, 20))
    blocks.append(_paragraph_of_lines(_marker_lines(report, KEY_LINE + report.idempotency_key)))
    return adf_doc(blocks)


def _marker_lines(report: Report, key_line: str) -> list[str]:
    line = installation_line(report)
    return [line, key_line] if line else [key_line]


def _occurrence_head(report: Report, when: datetime, adf: bool,
                     installations: InstallationCount | None = None) -> list[Any]:
    who = report.reporter.name or "someone"
    role = f" ({report.reporter.role.value})" if report.reporter.name else ""
    lines = [f"{OCCURRENCE_LINE}{who}{role} at {utc_iso(report.created_at or when)}"]
    if installations is not None:
        lines.append(installations.line)
    if report.title:
        lines.append(f"Title: {report.title}")
    text = report.description.strip()
    if text:
        lines.append(text[:MAX_OCCURRENCE_EXCERPT] + ("..." if len(text) > MAX_OCCURRENCE_EXCERPT else ""))
    lines.append(f"Impact: {report.impact.plain_words}; affects: {report.reach.plain_words}")
    if adf:
        return [node for line in lines for node in adf_paragraphs(line)]
    return lines


def adf_plain(node: Any, headings: bool = False) -> str:
    """The text of an ADF tree (comment bodies come back as ADF), paragraphs on their own lines.

    headings=True marks headings Markdown-style ("### Root cause"), so a section can be read back
    from a description (the post-incident review's "Root cause").
    """
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    inner = "".join(adf_plain(child, headings) for child in node.get("content") or [])
    if headings and node.get("type") == "heading":
        level = int((node.get("attrs") or {}).get("level") or 1)
        return "#" * max(1, min(level, 6)) + " " + inner + "\n"
    return inner + "\n" if node.get("type") in ("paragraph", "heading", "codeBlock", "listItem") else inner


def _footer(report: Report) -> str:
    return KEY_LINE + report.idempotency_key + (f" · fingerprint: {report.fingerprint}" if report.fingerprint else "")


# -- wiki markup (Data Center) --------------------------------------------------------------------
def _noformat(text: str) -> str:
    return "{noformat}\n" + text.rstrip("\n").replace("{noformat}", "{ noformat}") + "\n{noformat}"


def _wiki_evidence(uploads: Sequence[Upload], notes: Sequence[str], excerpt_lines: int,
                   inline_screenshot: bool) -> list[str]:
    blocks: list[str] = []
    shots = [u for u in uploads if u.attachment.kind == "screenshot" and u.content_type.startswith("image/")]
    if inline_screenshot and shots:
        blocks.append(f"h3. Screenshot\n\n!{shots[0].filename}|thumbnail!")
    if uploads:
        blocks.append("h3. Attachments\n\n" + "\n".join(
            f"* [^{u.filename}] ({u.attachment.kind}, {human_size(len(u.data))})" for u in uploads))
    for e in log_excerpts(uploads, excerpt_lines):
        what = f"last {e.lines} of {e.total_lines} lines" if e.lines < e.total_lines else f"{e.lines} lines"
        blocks.append(f"h3. Log excerpt: {e.name} ({what})\n\n" + _noformat(e.text))
    if notes:
        blocks.append("h3. Changed to fit the tracker\n\n" + "\n".join(f"* {n}" for n in notes))
    return blocks


def wiki_description(report: Report, uploads: Sequence[Upload], notes: Sequence[str],
                     excerpt_lines: int = 40, prefix: str = "") -> str:
    head = [f"h3. {h}\n\n" + (_noformat(b.strip()) if h in PREFORMATTED else b.strip())
            for h, b in plain_sections(report)]
    footer = "\n".join(_marker_lines(report, _footer(report)))
    lines = excerpt_lines
    while True:
        text = "\n\n".join([*head, *_wiki_evidence(uploads, notes, lines, True), footer]) + "\n"
        if len(text) <= MAX_DESCRIPTION or lines == 0:
            break
        lines = lines // 2 if lines > 4 else 0
    if len(text) > MAX_DESCRIPTION:
        cut = "\n\n_[reporter-app: the rest was cut to fit Jira's limit]_\n\n"
        text = text[:MAX_DESCRIPTION - len(cut) - len(footer) - 1] + cut + footer + "\n"
    return text


def wiki_occurrence(report: Report, uploads: Sequence[Upload], notes: Sequence[str], when: datetime,
                    installations: InstallationCount | None = None) -> str:
    blocks = list(_occurrence_head(report, when, adf=False, installations=installations))
    blocks.extend(_wiki_evidence(uploads, notes, 20, False))
    blocks.append("\n".join(_marker_lines(report, KEY_LINE + report.idempotency_key)))
    return "\n\n".join(blocks) + "\n"
