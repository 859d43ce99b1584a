"""Secret scrubbing: replace tokens, keys and passwords with a visible, counted marker.

Every hit becomes ``[REDACTED:<rule name>]`` (like sentry's scrubber: a marker, never a
silent drop), so a reader sees that something was there and the form can say
"3 secrets removed".

Speed: rules run one after another over the whole text, each only when one of its
cheap literal ``keywords`` occurs in it (a substring test runs at memory speed, a
regex scan does not). Patterns start with a literal wherever possible so that
Python's ``re`` can use its fast prefix search.

Rules are data (:class:`ScrubRule`), so config can add its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

MARKER_PREFIX = "[REDACTED:"


def marker(name: str) -> str:
    return f"{MARKER_PREFIX}{name}]"


@dataclass(frozen=True)
class ScrubRule:
    """One kind of secret.

    ``group``: which group of ``pattern`` holds the secret (0: the whole match). When it
    is ``None``, the first participating group whose name starts with ``secret`` is used,
    falling back to the whole match; this lets one pattern offer alternatives (quoted,
    unquoted) while the surrounding text (key name, quotes) stays readable.
    ``keywords``: literal substrings, one of which must occur for the rule to run at all;
    empty means always run. Matched case-insensitively when ``ignore_case``.
    """

    name: str
    pattern: str
    group: int | str | None = 0
    keywords: tuple[str, ...] = ()
    ignore_case: bool = False
    replacement: str | None = None  # default: the marker
    multiline: bool = False  # may span lines: always scans the whole text

    def compile(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)


@dataclass
class ScrubResult:
    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# Don't redact a value that is already a marker: scrubbing twice must change nothing.
_NOT_MARKER = r"(?!\[REDACTED:)"

# Key names that say "the value is secret". ``auth`` only as a whole word part, so that
# ``author=`` and ``authentication=ok`` stay.
_SECRET_KEY = (
    # Not inside a word ("bypass", "keypass"), but a camelCase boundary counts ("userPassword").
    r"(?:(?<![A-Za-z])|(?<=(?-i:[a-z]))(?=(?-i:[A-Z])))"
    r"(?:password|passwd|passphrase|pass|pwd|secret|token|api[_-]?key|apikey|"
    r"access[_-]?key|private[_-]?key|secret[_-]?key|client[_-]?secret|credentials?)"
    # Only a separated suffix ("password_hash", "token.value"), so "passed" or "authors" stay.
    r"(?![a-z])(?:[_.\-][\w.\-]*)?"
)
# Placeholders and flags are not secrets; redacting them only hides information.
_NOT_A_VALUE = r"(?!(?:true|false|null|none|nil|yes|no|\*+|<[^>\s]*>|\$\{?[A-Za-z_]\w*\}?)(?![^\s'\",;&)}\]]))"

DEFAULT_RULES: tuple[ScrubRule, ...] = (
    # Multi-line first, so later rules don't redact pieces of it one by one.
    ScrubRule(
        "private-key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        keywords=("PRIVATE KEY",),
        multiline=True,
    ),
    ScrubRule(
        "github-token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        keywords=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    ScrubRule("gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}", keywords=("glpat-",)),
    ScrubRule(
        "slack-webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]+",
        keywords=("hooks.slack.com",),
    ),
    ScrubRule("slack-token", r"\bxox[abposre]-[A-Za-z0-9\-]{10,}", keywords=("xox",)),
    ScrubRule(
        "aws-access-key-id",
        r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
        keywords=("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
    ),
    ScrubRule(
        "aws-secret-key",
        r"aws[\w.\-]{0,20}?(?:secret|key)[\w.\-]{0,20}?[\"']?\s*[:=]\s*[\"']?"
        r"(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        group="secret",
        keywords=("aws",),
        ignore_case=True,
    ),
    ScrubRule("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", keywords=("AIza",)),
    ScrubRule(
        "stripe-key",
        r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}",
        keywords=("k_live_", "k_test_"),
    ),
    # OpenAI (sk-..., sk-proj-...), also catches Anthropic's sk-ant-...: same shape, same risk.
    ScrubRule("openai-key", r"\bsk-(?:[A-Za-z0-9]+-)?[A-Za-z0-9_\-]{20,}", keywords=("sk-",)),
    ScrubRule(
        "jwt",
        r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*",
        keywords=("eyJ",),
    ),
    ScrubRule(
        "auth-header",
        r"authorization[\"']?\s*[:=]\s*[\"']?"
        # Atomic: once a scheme is read, it can't be given back and taken for the secret.
        r"(?>(?:(?:bearer|basic|token|digest|negotiate|ntlm|aws4-hmac-sha256)\s+)?)"
        + _NOT_MARKER
        # A token, or Digest-style "k=v, k2=\"v2\"" parameters: all of it goes.
        + r"(?P<secret>(?:[\w-]+=(?:\"[^\"\n]*\"|[^\s,'\"]+)|[^\s'\"]+)"
        + r"(?:[^\S\n]*,[^\S\n]*[\w-]+=(?:\"[^\"\n]*\"|[^\s,'\"]+))*)",
        group="secret",
        keywords=("authorization",),
        ignore_case=True,
    ),
    ScrubRule(
        "bearer-token",
        r"\bbearer\s+" + _NOT_MARKER + r"(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)",
        group="secret",
        keywords=("bearer",),
        ignore_case=True,
    ),
    # The whole cookie list: session cookies are credentials, their names say little.
    ScrubRule(
        "cookie",
        r"\b(?:set-)?cookie[\"']?[^\S\n]*:[^\S\n]*[\"']?" + _NOT_MARKER + r"(?P<secret>[^\s'\"][^\n'\"]*)",
        group="secret",
        keywords=("cookie",),
        ignore_case=True,
    ),
    # scheme://user:password@host: keep the user, it helps debugging and is not secret.
    ScrubRule(
        "url-password",
        r"://[^\s:/@'\"<>]*:" + _NOT_MARKER + r"(?P<secret>[^\s/@'\"<>]+)@",
        group="secret",
        keywords=("://",),
    ),
    # key=value, key: value, "key": "value", with a key that names a secret.
    ScrubRule(
        "secret-value",
        _SECRET_KEY
        + r"[\"']?[^\S\n]*(?:=|:(?!//))[^\S\n]*(?:!!\w+[^\S\n]+)?"
        + _NOT_A_VALUE
        + r"(?:\"" + _NOT_MARKER + r"(?P<secret_dq>[^\"\n]+)\"|'" + _NOT_MARKER + r"(?P<secret_sq>[^'\n]+)'|"
        + _NOT_MARKER
        + r"(?P<secret>[^\s'\",;&)}\]]+))",
        group=None,
        keywords=("pass", "pwd", "secret", "token", "key", "credential"),
        ignore_case=True,
    ),
)

EMAIL_RULE = ScrubRule(
    "email",
    # Starts at "@" (literal prefix: fast); the local part is found by a lookbehind-free
    # second step in Scrubber._scrub_emails.
    r"@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b",
    keywords=("@",),
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4_RULE = ScrubRule("ipv4", rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w.]*\d)", keywords=(".",))
_H = r"[0-9A-Fa-f]{1,4}"
IPV6_RULE = ScrubRule(
    "ipv6",
    rf"(?<![\w:])(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,6}}(?::{_H}){{1,6}}|(?:{_H}:){{1,7}}:|::(?:{_H}:){{0,5}}{_H})(?![\w:])",
    keywords=("::", ":"),
)

_LOCAL_PART = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")

# Environment variables that merely *look* secret by name.
_ENV_NOT_SECRET = frozenset(
    {"PWD", "OLDPWD", "SSH_AUTH_SOCK", "XAUTHORITY", "GPG_AGENT_INFO", "KRB5CCNAME", "XDG_SESSION_ID"}
)
_ENV_SECRET_KEY = re.compile(_SECRET_KEY, re.IGNORECASE)


@dataclass
class _Compiled:
    rule: ScrubRule
    regex: re.Pattern[str]
    groups: tuple[int | str, ...]


class Scrubber:
    """Apply scrub rules to text. Thread-safe after construction (compiled patterns only)."""

    def __init__(
        self,
        rules: Sequence[ScrubRule] | None = None,
        *,
        emails: bool = False,
        ips: bool = False,
        home: str | None = None,
    ) -> None:
        chosen = list(DEFAULT_RULES if rules is None else rules)
        if ips:
            chosen += [IPV6_RULE, IPV4_RULE]
        self._emails = emails
        self._compiled = [self._compile(rule) for rule in chosen]
        self._email = EMAIL_RULE.compile() if emails else None
        home = (home or "").rstrip("/\\")
        # A bare "/" or "C:" home would replace every path: not what the user meant.
        self._home = re.compile(re.escape(home) + r"(?![\w.\-])") if len(home) > 3 else None

    @staticmethod
    def _compile(rule: ScrubRule) -> _Compiled:
        regex = rule.compile()
        if rule.group is None:
            names = tuple(n for n in regex.groupindex if n.startswith("secret"))
            groups: tuple[int | str, ...] = names or (0,)
        else:
            groups = (rule.group,)
        return _Compiled(rule, regex, groups)

    def scrub(self, text: str) -> ScrubResult:
        counts: dict[str, int] = {}
        if not text:
            return ScrubResult(text, counts)
        lowered: str | None = None
        for compiled in self._compiled:
            rule = compiled.rule
            spans: list[tuple[int, int]] | None = None
            if rule.keywords:
                if rule.ignore_case:
                    if lowered is None:
                        lowered = text.lower()
                    # lower() may change the length of some non-ASCII text: then positions
                    # don't line up and the rule scans everything.
                    haystack = lowered if len(lowered) == len(text) else None
                    if haystack is None:
                        if not any(k.lower() in lowered for k in rule.keywords):
                            continue
                    else:
                        spans = _lines_with(text, haystack, [k.lower() for k in rule.keywords])
                else:
                    spans = _lines_with(text, text, rule.keywords)
                if spans is not None and not spans:
                    continue
            if spans is not None and rule.multiline:
                spans = None
            new_text, n = self._apply(compiled, text, spans)
            if n:
                counts[rule.name] = counts.get(rule.name, 0) + n
                text = new_text
                lowered = None
        if self._email is not None and "@" in text:
            text = self._scrub_emails(text, counts)
        if self._home is not None:
            text, n = self._home.subn("~", text)
            if n:
                counts["home-path"] = n
        return ScrubResult(text, counts)

    @staticmethod
    def _apply(compiled: _Compiled, text: str, spans: list[tuple[int, int]] | None) -> tuple[str, int]:
        """Run one rule over ``text``, or only over the line ``spans`` that hold one of its keywords."""
        rule = compiled.rule
        repl = rule.replacement if rule.replacement is not None else marker(rule.name)
        count = 0

        def replace(m: re.Match[str]) -> str:
            nonlocal count
            for g in compiled.groups:
                start, end = m.span(g)
                if start >= 0:
                    count += 1
                    whole_start = m.start()
                    s = m.group(0)
                    return s[: start - whole_start] + repl + s[end - whole_start :]
            return m.group(0)

        if spans is None:
            return compiled.regex.sub(replace, text), count
        pieces: list[str] = []
        last = 0
        for start, end in spans:
            pieces.append(text[last:start])
            pieces.append(compiled.regex.sub(replace, text[start:end]))
            last = end
        if not count:
            return text, 0
        pieces.append(text[last:])
        return "".join(pieces), count

    def _scrub_emails(self, text: str, counts: dict[str, int]) -> str:
        assert self._email is not None
        out: list[str] = []
        last = 0
        n = 0
        for m in self._email.finditer(text):
            start = m.start()
            local = start
            while local > last and text[local - 1] in _LOCAL_PART:
                local -= 1
            if local == start:
                continue  # "@host" without a local part (decorators, handles): not an address
            out.append(text[last:local])
            out.append(marker("email"))
            last = m.end()
            n += 1
        if not n:
            return text
        out.append(text[last:])
        counts["email"] = counts.get("email", 0) + n
        return "".join(out)

    def scrub_mapping(self, values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, int]]:
        """Scrub every value (e.g. environment variables); a value whose *name* says secret is replaced whole."""
        out: dict[str, str] = {}
        counts: dict[str, int] = {}
        for key, value in values.items():
            if key.upper() not in _ENV_NOT_SECRET and _ENV_SECRET_KEY.search(key) and value:
                out[key] = marker("secret-value")
                counts["secret-value"] = counts.get("secret-value", 0) + 1
                continue
            result = self.scrub(value)
            out[key] = result.text
            for name, n in result.counts.items():
                counts[name] = counts.get(name, 0) + n
        return out, counts


def _lines_with(text: str, haystack: str, keywords: Sequence[str]) -> list[tuple[int, int]] | None:
    """The (start, end) spans of the lines of ``text`` where ``haystack`` holds a keyword.

    ``str.find`` runs at memory speed, so finding the few interesting lines and running
    the regex only there is much faster than a regex scan of everything. Returns None
    (scan everything) once the lines would cover most of the text anyway.
    """
    found: list[tuple[int, int]] = []
    limit = len(text) // 2
    covered = 0
    for keyword in keywords:
        pos = haystack.find(keyword)
        while pos >= 0:
            start = text.rfind("\n", 0, pos) + 1
            end = text.find("\n", pos)
            if end < 0:
                end = len(text)
            found.append((start, end))
            covered += end - start
            if covered > limit:
                return None
            pos = haystack.find(keyword, end)
    if len(found) < 2:
        return found
    found.sort()
    merged = [found[0]]
    for start, end in found[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def merge_counts(*many: Mapping[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in many:
        for name, n in counts.items():
            total[name] = total.get(name, 0) + n
    return total
