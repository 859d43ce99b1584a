"""Log-line templates: the constant words of a line, with the variable parts masked.

Three steps, each cheap:

1. ``split_header``: the timestamp, level, pid and thread a logger puts in front of every line
   say nothing about which statement printed it, so they are cut off (the logger name is kept).
2. ``mask``: values that are obviously variable (numbers, addresses, ids, hex, quoted values,
   URLs) become ``<#>`` by regular expressions; stable across machines, so a single ERROR line's
   fingerprint can be compared between installations.
3. ``LineTemplater`` (Drain, He et al. ICWS'17): lines with the same token count and the same
   leading words share a leaf of a fixed-depth tree; within a leaf a line joins the most similar
   template if enough positions agree, and the positions that differ become ``<*>``. This finds
   variables no regex knows (user names, host names). Unlike Drain, a template's words settle:
   once it has taken ``settle_after`` lines, a line that differs in one of its words starts a
   template of its own, and a later line fits the most general template, not the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MASK = "<#>"  # a value the regexes recognised
WILDCARD = "<*>"  # a position where lines of one template were seen to differ

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*"
_TIME = r"\d{1,2}:\d\d(?::\d\d)?(?:[.,]\d+)?"
# Header pieces, tried in turn at the start of the line until none fits.
_HEADER_PIECES = [
    re.compile(p)
    for p in (
        rf"\[?\d{{4}}[-/.]\d\d[-/.]\d\d[T ]{_TIME}(?:Z|[+-]\d\d:?\d\d)?\]?",  # 2015-10-18 18:01:47,978
        rf"\[?{_DAY} {_MONTH} +\d{{1,2}} {_TIME}(?: \d{{4}})?\]?",  # [Sun Dec 04 04:47:44 2005]
        rf"{_MONTH} +\d{{1,2}},? (?:\d{{4}} )?{_TIME}(?: [AP]M)?",  # Dec 10 06:55:46 / Jul 09, 2015 3:23:29 PM
        rf"\d\d/\d\d/\d\d {_TIME}",  # 17/06/09 20:10:40
        r"\d{6} \d{6}",  # 081109 203615
        r"\d{4}[-/]\d\d[-/]\d\d",  # a date alone
        _TIME,
        (r"\[?(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|SEVERE|Info|Warning|Error|Debug"
         r"|notice|error|warn|info|debug|crit|alert|emerg)\]?(?=[\s:]|$)"),
        r"\[(?:[^\[\]]|\[[^\[\]]*\])*\](?=\s*[-:]?\s)",  # [thread], [QuorumPeer[myid=1]/0:...@774]
        r"\d+(?=\s)",  # a pid
        r"[-|,:]",  # separators between header fields
    )
]
# After a syslog timestamp: "host program[pid]:".
_SYSLOG_SOURCE = re.compile(r"(?P<host>[\w.\-]+) (?P<prog>[\w\-./()]+?)(?:\[\d+\])?: ")
# A logger name: dotted (Java/Python), "Name$Inner", or followed by ": " as the first thing after the header.
_LOGGER = re.compile(r"(?P<name>[A-Za-z_][\w$]*(?:\.[A-Za-z_$][\w$]*)+|[A-Za-z_][\w$]*\$[\w$]+)(?:@\d+)?:?(?=\s)")
_WINDOWS_COMPONENT = re.compile(r"(?P<name>[A-Za-z][\w\-]*)\s{2,}")
_SPACE = re.compile(r"\s+")


def split_header(line: str) -> tuple[str, str]:
    """``(source, content)``: the logger/program name (or "") and the message after the line's header."""
    rest = line.lstrip()
    stripped_any = False
    saw_time = False
    for _ in range(12):  # a header has a handful of fields; the bound keeps odd lines cheap
        for piece in _HEADER_PIECES:
            m = piece.match(rest)
            if m and m.end() > 0:
                saw_time = saw_time or ":" in m.group(0) and any(c.isdigit() for c in m.group(0))
                rest = rest[m.end():].lstrip()
                stripped_any = True
                break
        else:
            break
    if not stripped_any:
        return "", line.strip()
    source = ""
    if saw_time:
        m = _SYSLOG_SOURCE.match(rest)
        if m and not _LOGGER.match(rest):
            source = m.group("prog")
            rest = rest[m.end():]
    if not source:
        m = _LOGGER.match(rest)
        if m:
            source = m.group("name")
            rest = rest[m.end():].lstrip(" :-")
        else:
            m = _WINDOWS_COMPONENT.match(rest)
            if m:
                source = m.group("name")
                rest = rest[m.end():]
    return source, rest.strip()


_MASKS = [
    (re.compile(p), MASK)
    for p in (
        rf"\b(?:{_DAY},? )?{_MONTH} +\d{{1,2}},? (?:\d{{4}} )?{_TIME}(?: \d{{4}})?\b",  # dates inside a message
        r"\b[a-zA-Z][\w+.\-]*://\S+",  # URLs
        r"\b[\w.+\-]+@[\w\-]+\.[\w.\-]+\b",  # e-mail addresses
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",  # UUIDs
        r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\w.])",  # IPv4(:port)
        r"\b0x[0-9a-fA-F]+\b",
        # Host names: dotted labels ending in a top-level domain.
        r"(?<![\w.\-])(?:[A-Za-z0-9\-]+\.)+(?:com|net|org|edu|gov|mil|int|info|biz|io|local|lan|[a-z]{2})(?![\w\-]|\.\w)",
        r"(?<![\w/])/(?:[\w.\-~]+/)+[\w.\-~]*",  # absolute paths with at least one directory
    )
]
# Any token with a digit is a value (the naive baseline's rule, which is right far more often than not).
_DIGIT_TOKEN = re.compile(r"\S*\d\S*")


def mask(content: str) -> str:
    """``content`` with recognisable variable values replaced by ``<#>``; words split on whitespace."""
    text = content
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    text = _DIGIT_TOKEN.sub(_mask_digit_token, text)
    return _SPACE.sub(" ", text).strip()


def _mask_digit_token(m: re.Match[str]) -> str:
    token = m.group(0)
    # Keep the punctuation around a number ("(size", "[x]"), so "=5," and "=7," stay one word shape.
    lead = re.match(r"^[(\[{'\"]*(?:[A-Za-z_]+[=:])?", token)
    start = lead.end() if lead else 0
    tail = re.search(r"[)\]}'\",;:.]*$", token[start:])
    end = len(token) - (len(tail.group(0)) if tail else 0)
    return token[:start] + MASK + token[end:] if end > start else MASK


def tokens_of(line: str) -> tuple[str, list[str]]:
    source, content = split_header(line)
    return source, mask(content).split(" ") if content else []


@dataclass
class Template:
    id: int
    source: str
    tokens: list[str]
    size: int = 0

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    templates: list[Template] = field(default_factory=list)


def _is_variable(token: str) -> bool:
    return token == MASK or token == WILDCARD or MASK in token


class LineTemplater:
    """Online Drain. ``add`` learns from a line; ``match`` only looks (for a second pass over the same lines).

    ``depth``: leading words used to route a line (after the length); ``similarity``: the share of
    positions that must agree to join a template; ``max_children`` bounds a node so a word that is
    really a value (a user name in first position) can't grow the tree without end.

    ``settle_after``: once a template has taken this many lines, the words it still has are its
    statement's text: a word that stayed the same over that many lines is rarely a value, so a line
    that differs in one of them ("... to plugin Indexer." seen 300 times, then "... to plugin Mailer."
    once) starts a template of its own instead of turning the word into ``<*>``. If that new template
    then sees another value there, the position is a value after all: it becomes ``<*>``, and
    ``match`` gives every line the most general template that fits it, so the settled template's
    lines join it again in the second pass (a user name seen 30 times in a row as "root", then others).
    """

    # Chosen on Loghub-2k (bench/eval_fingerprint.py) as one setting for all systems; Drain's
    # published figures use a tuned threshold per system. The logger name is left out of the key
    # because one statement is often logged by several programs (su, sshd, login via pam_unix).
    # settle_after 3..10 give the same figures on the files as they are (in time order); with their
    # lines shuffled, 3 splits user names that come in short runs (Linux drops to 0.36 on one order)
    # while 10 never does worse than not settling at all. So 10: a short run of one value (a retry
    # loop, one user's burst of logins) stays free to vary.
    def __init__(self, depth: int = 4, similarity: float = 0.8, max_children: int = 100,
                 use_source: bool = False, settle_after: int = 10) -> None:
        if not 0.0 <= similarity <= 1.0:
            raise ValueError(f"similarity must be between 0 and 1, got {similarity}")
        if settle_after < 1:
            raise ValueError(f"settle_after must be at least 1 line, got {settle_after}")
        self.depth = max(depth, 3)
        self.similarity = similarity
        self.max_children = max_children
        self.use_source = use_source
        self.settle_after = settle_after
        self._root = _Node()
        self.templates: list[Template] = []

    def add(self, line: str) -> Template:
        source, tokens = tokens_of(line)
        source = source if self.use_source else ""
        leaf = self._leaf(source, tokens, create=True)
        assert leaf is not None
        best = self._best(leaf.templates, tokens)
        if best is None:
            best = Template(id=len(self.templates) + 1, source=source, tokens=list(tokens))
            self.templates.append(best)
            leaf.templates.append(best)
        else:
            best.tokens = [t if t == w else WILDCARD for t, w in zip(best.tokens, tokens)]
        best.size += 1
        return best

    def match(self, line: str) -> Template | None:
        source, tokens = tokens_of(line)
        source = source if self.use_source else ""
        leaf = self._leaf(source, tokens, create=False)
        if leaf is None:
            return None
        # A learnt template fits exactly where it has words; its <*> positions take anything. Of
        # several that fit, the one with the most <*> has seen the others' words vary.
        fit: Template | None = None
        fit_wild = -1
        for template in leaf.templates:
            if len(template.tokens) == len(tokens) and all(
                    t == w or t == WILDCARD for t, w in zip(template.tokens, tokens)):
                wild = template.tokens.count(WILDCARD)
                if wild > fit_wild:
                    fit, fit_wild = template, wild
        return fit or self._best(leaf.templates, tokens)

    def _leaf(self, source: str, tokens: Sequence[str], create: bool) -> _Node | None:
        node = self._root
        keys = [source, str(len(tokens))]
        for token in tokens[: self.depth - 2]:
            keys.append(WILDCARD if _is_variable(token) or any(c.isdigit() for c in token) else token)
        for key in keys:
            child = node.children.get(key)
            if child is None:
                if not create:
                    child = node.children.get(WILDCARD)
                    if child is None:
                        return None
                elif len(node.children) >= self.max_children and key != WILDCARD:
                    child = node.children.setdefault(WILDCARD, _Node())
                else:
                    child = node.children.setdefault(key, _Node())
            node = child
        return node

    def _best(self, templates: Iterable[Template], tokens: Sequence[str]) -> Template | None:
        best: Template | None = None
        best_key = (-1.0, -1)
        for template in templates:
            if len(template.tokens) != len(tokens):
                continue
            settled = template.size >= self.settle_after
            same = wild = 0
            for t, w in zip(template.tokens, tokens):
                if t == WILDCARD:
                    wild += 1  # learnt <*> positions take anything but don't count as agreeing
                elif t == w:
                    same += 1  # the same word, or two masked values (the same kind of word)
                elif settled and MASK not in t:
                    break  # a settled word differs: another statement
            else:
                sim = same / len(tokens) if tokens else 1.0
                key = (sim, wild)
                if key > best_key:
                    best, best_key = template, key
        if best is not None and (best_key[0] >= self.similarity or not tokens):
            return best
        return None


def templates_for(lines: Sequence[str], templater: LineTemplater | None = None) -> list[Template]:
    """Each line's template after learning from all of them (two passes, so the order of lines matters less)."""
    templater = templater or LineTemplater()
    first = [templater.add(line) for line in lines]
    return [templater.match(line) or seen for line, seen in zip(lines, first)]
