"""Redmine ticket text: the report's sections in Textile (Redmine's default) or Markdown.

The last line carries the report's idempotency key (`reporter-app key: ra-...`). It is the
fallback identity of the ticket when the Redmine project has no custom field for the key:
`find()` then searches descriptions for exactly this line. Keep its wording stable.
The line above it, `reporter-app installation: <tag>`, is what the count of distinct installations
reads back (trackers/installations.py); Redmine shows both as two small plain lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reporter_app.clock import utc_iso
from reporter_app.model import Report
from reporter_app.render import plain_sections
from reporter_app.trackers.fitting import Upload, human_size
from reporter_app.trackers.installations import InstallationCount, installation_line

KEY_MARKER = "reporter-app key: "
FORMATS = ("textile", "markdown", "common_mark")
# Machine-made text in these sections keeps its line layout (aligned "key: value" lines).
PREFORMATTED = {"System", "Not collected", "Attachment notes"}
OCCURRENCE_PREFIX = "+1 occurrence"
MAX_EXCERPT = 600


def key_marker(key: str) -> str:
    return f"{KEY_MARKER}{key}"


class Markup:
    """The few constructs a ticket needs, in one of Redmine's text formats."""

    def __init__(self, formatting: str) -> None:
        if formatting not in FORMATS:
            raise ValueError(f"tracker.text_formatting {formatting!r}: expected one of {', '.join(FORMATS)}")
        self.textile = formatting == "textile"

    def heading(self, text: str) -> str:
        return f"h3. {text}" if self.textile else f"### {text}"

    def pre(self, text: str) -> str:
        if self.textile:
            return "<pre>\n" + text.replace("</pre>", "&lt;/pre>") + "\n</pre>"
        fence = "````" if "```" in text else "```"
        return f"{fence}\n{text}\n{fence}"

    def image(self, filename: str) -> str:
        return f"!{_quote_image(filename)}!" if self.textile else f"![{filename}]({_quote_url(filename)})"

    def bullet(self, text: str) -> str:
        return f"* {text}"

    def attachment_link(self, filename: str) -> str:
        # Redmine's own link syntax, the same in every formatter; quotes allow spaces in names.
        return f'attachment:"{filename}"'


def description(report: Report, uploads: Sequence[Upload], notes: Sequence[str], formatting: str) -> str:
    """The whole ticket description: sections, screenshot inline, attachment list, changes, key line."""
    markup = Markup(formatting)
    blocks: list[str] = []
    for heading, body in plain_sections(report):
        text = body.strip()
        blocks.append(markup.heading(heading) + "\n\n" + (markup.pre(text) if heading in PREFORMATTED else text))
    blocks.extend(_evidence(markup, uploads, notes))
    footer = key_marker(report.idempotency_key)
    if report.fingerprint:
        footer += f" · fingerprint: {report.fingerprint}"
    blocks.append(_markers(report, footer))
    return "\n\n".join(blocks) + "\n"


def occurrence_note(report: Report, uploads: Sequence[Upload], notes: Sequence[str], formatting: str,
                    when: datetime, installations: InstallationCount | None = None) -> str:
    """A journal note for a duplicate: who, when, what they saw, how many machines; carries the duplicate's own
    key and its installation's tag."""
    markup = Markup(formatting)
    who = report.reporter.name or "someone"
    role = f" ({report.reporter.role.value})" if report.reporter.name else ""
    head = f"{OCCURRENCE_PREFIX}: reported again by {who}{role} at {utc_iso(report.created_at or when)}"
    blocks = [head]
    if installations is not None:
        blocks.append(installations.line)
    if report.title:
        blocks.append(f"Title: {report.title}")
    text = report.description.strip()
    if text:
        blocks.append(text[:MAX_EXCERPT] + ("..." if len(text) > MAX_EXCERPT else ""))
    blocks.append(f"Impact: {report.impact.plain_words}; affects: {report.reach.plain_words}")
    blocks.extend(_evidence(markup, uploads, notes, inline_screenshot=False))
    blocks.append(_markers(report, key_marker(report.idempotency_key)))
    return "\n\n".join(blocks) + "\n"


def _markers(report: Report, key_line: str) -> str:
    # One paragraph of two short lines (Textile breaks the line; Markdown may join them when shown): find() and
    # the count read the stored text, where each stays a line of its own.
    line = installation_line(report)
    return f"{line}\n{key_line}" if line else key_line


def _evidence(markup: Markup, uploads: Sequence[Upload], notes: Sequence[str],
              inline_screenshot: bool = True) -> list[str]:
    blocks: list[str] = []
    screenshots = [u for u in uploads if u.attachment.kind == "screenshot" and u.content_type.startswith("image/")]
    if inline_screenshot and screenshots:
        blocks.append(markup.heading("Screenshot") + "\n\n" + markup.image(screenshots[0].filename))
    if uploads:
        lines = [markup.bullet(f"{markup.attachment_link(u.filename)} ({u.attachment.kind}, {human_size(len(u.data))})")
                 for u in uploads]
        blocks.append(markup.heading("Attachments") + "\n\n" + "\n".join(lines))
    if notes:
        # Never a silent loss: whatever was trimmed, shrunk or left out is named in the ticket.
        blocks.append(markup.heading("Changed to fit the tracker") + "\n\n"
                      + "\n".join(markup.bullet(n) for n in notes))
    return blocks


def _quote_image(filename: str) -> str:
    # Textile image syntax ends at "!" or whitespace; Redmine resolves attachment names URL-decoded.
    return filename.replace(" ", "%20").replace("!", "%21")


def _quote_url(filename: str) -> str:
    return filename.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
