"""What a trace says, reduced to what stays the same between two occurrences of one bug.

A trace becomes its exception types (outermost first, as printed) and frames as
``module:function``, with line numbers, addresses, argument values, install prefixes and
generated-name counters removed. That is what the fingerprint hashes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Frame:
    module: str  # "pykafka/cluster", "com.example.Foo", "express/lib/router/index"
    function: str
    in_app: bool


@dataclass
class ParsedTrace:
    language: str
    exception_types: list[str] = field(default_factory=list)  # in printed order
    messages: list[str] = field(default_factory=list)  # kept for display and frame-less traces
    blocks: list[list[Frame]] = field(default_factory=list)  # one list per exception in the chain

    def primary_frames(self) -> list[Frame]:
        """The frames closest to where it went wrong, innermost call first."""
        blocks = [b for b in self.blocks if b]
        if not blocks:
            return []
        if self.language == "python":
            # Python prints the most recent call last, and a chain's last traceback is the one that escaped.
            return list(reversed(blocks[-1]))
        if self.language == "jvm" and len(blocks) > 1:
            # The root cause ("Caused by:" at the bottom) is where it went wrong.
            return blocks[-1]
        return blocks[0]


# Library and runtime locations: not the application's code, so they don't identify the bug.
_NOT_IN_APP = re.compile(
    r"site-packages|dist-packages|/lib/python\d|\\lib\\python|<frozen |^<|importlib"
    r"|node_modules|^node:|^internal/|\(native\)|^native "
    r"|/usr/local/go/src/|/go/src/(?:runtime|net|reflect|sync)/|^runtime\.|^runtime/|^net/http\.|^reflect\.|^sync\."
    r"|^(?:java|javax|jdk|sun|com\.sun|kotlin|kotlinx|scala|org\.springframework|org\.apache|org\.eclipse"
    r"|org\.mortbay|org\.junit|io\.netty|org\.hibernate|com\.google\.common)\."
    r"|^(?:System|Microsoft)\.|^dart:|/gems/|^\S+ \(\d[\w.]*\) |^\[internal function\]"
)
_LINE_NUMBERS = re.compile(r":\d+(?::\d+)?\)?$|\(\d+\)$|:line \d+$")
_GENERATED = re.compile(r"\$\$[\w$]*|\$\d+|\bd__\d+|\bc__\w*?\d+|`\d+|\b(?:lambda|func|anon|closure)\$?\d+\b|\.func\d+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_PY_FILE = re.compile(r'^\s*File "(?P<path>[^"]*)", line \d+, in (?P<func>\S+)')
_PY_EXC = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<msg>.*))?$")
_JVM_FRAME = re.compile(r"^\s+(?:eval )?at\s+(?:new\s+)?(?P<body>.*)$")
_JVM_TYPE = re.compile(r"(?P<type>[A-Za-z_$][\w$.]*(?:Exception|Error|Throwable|Fault|Failure))(?::\s*(?P<msg>.*))?")
_JVM_CAUSE = re.compile(r"^\s*(?:Caused by|Suppressed):\s*(?P<rest>.*)$")
_GO_FUNC = re.compile(r"^(?:created by )?(?P<func>[^\s(]+(?:\([^)]*\))?[^\s(]*)")
_GO_PANIC = re.compile(r"(?P<kind>panic|fatal error)(?: serving \S+?)?: (?P<msg>.*)$")
_PHP_FRAME = re.compile(r"^#\d+ (?P<where>.*?)(?:\(\d+\))?: (?P<func>[^(]+)")
_PHP_TYPE = re.compile(r"exception '(?P<type>[^']+)'|Uncaught (?:exception '(?P<t2>[^']+)'|(?P<t3>[\w\\]+))")
_RB_FRAME = re.compile(r"^\s+(?:from )?(?P<path>\S.*?)\.rb:\d+:in [`'](?P<func>[^'`]*)'")
_RB_TYPE = re.compile(r"(?P<type>[A-Z][\w:]*(?:Error|Exception))\b|\((?P<t2>[A-Z][\w:]*)\)\s*$")
_DART_FRAME = re.compile(r"^#\d+\s+(?P<func>.+?)\s+\((?P<where>.*)\)\s*$")
_DART_TYPE = re.compile(r"^(?P<type>[A-Z][\w ]*?)(?:\s*\(\w+\))?:|^(?P<t2>\w*(?:Exception|Error))\b")


def module_from_path(path: str) -> str:
    """A path that is the same on every machine: install prefixes, drive letters and extensions removed."""
    path = path.replace("\\", "/")
    path = re.sub(r"^file://", "", path)
    for marker in ("site-packages/", "dist-packages/", "node_modules/", "/gems/"):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            parts = path.split("/")
            return _strip_ext("/".join(parts[:4]))
    parts = [p for p in path.split("/") if p and p not in (".", "..")]
    # Two components are stable (package/module); the absolute prefix is the machine's business.
    return _strip_ext("/".join(parts[-2:]))


def _strip_ext(path: str) -> str:
    path = _LINE_NUMBERS.sub("", path)
    return re.sub(r"\.(?:py|pyc|js|mjs|cjs|ts|tsx|rb|php|dart|go|cs|java|kt|scala)$", "", path)


def _clean(name: str) -> str:
    name = _HEX.sub("", name)
    return _GENERATED.sub("$N", name).strip()


def _frame(module: str, function: str, location: str = "") -> Frame:
    module, function = _clean(module), _clean(function)
    in_app = not _NOT_IN_APP.search(location or module) and not _NOT_IN_APP.search(f"{module}.{function}")
    return Frame(module=module, function=function, in_app=in_app)


def parse_trace(language: str, lines: Sequence[str]) -> ParsedTrace:
    parser = _PARSERS.get(language, _parse_jvm)
    trace = ParsedTrace(language=language)
    parser(trace, lines)
    return trace


def _parse_python(trace: ParsedTrace, lines: Sequence[str]) -> None:
    block: list[Frame] = []
    for line in lines:
        m = _PY_FILE.match(line)
        if m:
            path = m.group("path")
            block.append(_frame(module_from_path(path), m.group("func"), path))
            continue
        if line[:1].isspace() or not line.strip() or line.startswith(("Traceback", "During ", "The above")):
            continue
        e = _PY_EXC.match(line)
        if e:
            # "builtins." / "exceptions." prefixes differ between Python versions for the same class.
            name = re.sub(r"^(?:builtins|exceptions)\.", "", e.group("type"))
            trace.exception_types.append(name)
            trace.messages.append(e.group("msg") or "")
            trace.blocks.append(block)
            block = []
    if block:
        trace.blocks.append(block)


def _jvm_frame(body: str) -> Frame:
    # "com.x.Foo.bar(Foo.java:60)", "next (/app/x.js:1:2)", "Foo.Bar() in c:/x.cs:line 3", "/app/app.js:52:3"
    body = re.sub(r"\s+\[as [^\]]*\]", "", body)
    body = re.sub(r" \[0x[0-9a-f]+\] in .*$| in \S.*:line \d+$", "", body)
    m = re.match(r"^(?P<func>[^\s(]+)\s*\((?P<where>.*)\)\s*$", body)
    if m and not re.match(r"^[^(]*\.(?:java|kt|scala|groovy):\d+$|^Native Method$|^Unknown Source$", m.group("where")):
        where = m.group("where")
        func = m.group("func")
        if "/" in where or where.startswith(("<", "native", "unknown")) or re.search(r"\.\w+:\d+", where):
            return _frame(module_from_path(where.split(" ")[-1]), func, where)
    if m:  # Java: the class is the module, the method the function
        module, _, func = m.group("func").rpartition(".")
        return _frame(module, func)
    if "(" in body:  # .NET: "Ns.Type.Method (args)"
        name = body.split("(", 1)[0].strip()
        module, _, func = name.rpartition(".")
        return _frame(module, func)
    return _frame(module_from_path(body), "<anonymous>", body)


def _parse_jvm(trace: ParsedTrace, lines: Sequence[str]) -> None:
    block: list[Frame] | None = None
    for line in lines:
        frame = _JVM_FRAME.match(line)
        if frame:
            if block is None:
                block = []
                trace.blocks.append(block)
            block.append(_jvm_frame(frame.group("body")))
            continue
        cause = _JVM_CAUSE.match(line)
        header = cause.group("rest") if cause else (line if not trace.exception_types else "")
        if header:
            t = _JVM_TYPE.search(header)
            trace.exception_types.append(t.group("type") if t else header.split(":", 1)[0].strip())
            trace.messages.append((t.group("msg") or "") if t else header)
            block = None
    if not trace.blocks:
        trace.blocks.append([])


def _parse_go(trace: ParsedTrace, lines: Sequence[str]) -> None:
    block: list[Frame] = []
    trace.blocks.append(block)
    first_goroutine = True
    for line in lines:
        p = _GO_PANIC.search(line)
        if p and not trace.exception_types:
            trace.exception_types.append(p.group("kind"))
            trace.messages.append(p.group("msg"))
            continue
        if line.startswith("goroutine "):
            if not first_goroutine:
                break  # the other goroutines were only waiting: the crash is in the first one
            first_goroutine = False
            continue
        if line[:1].isspace() or not line.strip() or line.startswith(("[signal", "...")):
            continue
        m = _GO_FUNC.match(line)
        if m:
            func = re.sub(r"\([^)]*\)$", "", m.group("func"))  # argument words are addresses
            module, _, name = func.rpartition(".")
            # Runtime frames ("panic", "runtime.gopark") are the machinery of a crash, not its place.
            block.append(_frame(module or name, name, func if module else "runtime." + func))
    if not trace.exception_types:
        trace.exception_types.append("goroutine dump")
        trace.messages.append("")


def _parse_php(trace: ParsedTrace, lines: Sequence[str]) -> None:
    block: list[Frame] = []
    trace.blocks.append(block)
    t = _PHP_TYPE.search(lines[0]) if lines else None
    trace.exception_types.append(next((g for g in t.groups() if g), "PHP error") if t else "PHP error")
    trace.messages.append(lines[0] if lines else "")
    for line in lines[1:]:
        m = _PHP_FRAME.match(line)
        if m:
            where = m.group("where")
            block.append(_frame(module_from_path(where) if "/" in where else where, m.group("func").strip(), where))


def _parse_ruby(trace: ParsedTrace, lines: Sequence[str]) -> None:
    block: list[Frame] = []
    trace.blocks.append(block)
    for index, line in enumerate(lines):
        m = _RB_FRAME.match(line) or (_RB_FRAME.match(" " + line) if index == 0 else None)
        if m:
            path = m.group("path")
            block.append(_frame(module_from_path(re.sub(r"^\S+ \([\d.]+\) ", "", path)), m.group("func"), path))
        if index == 0:
            t = _RB_TYPE.search(line)
            trace.exception_types.append(next((g for g in t.groups() if g), "RuntimeError") if t else "RuntimeError")
            trace.messages.append(line.strip())


def _parse_dart(trace: ParsedTrace, lines: Sequence[str]) -> None:
    block: list[Frame] = []
    trace.blocks.append(block)
    message = lines[1] if len(lines) > 1 else ""
    t = _DART_TYPE.match(message)
    trace.exception_types.append(next((g for g in t.groups() if g), "") if t else "Unhandled exception")
    trace.messages.append(message)
    for line in lines:
        m = _DART_FRAME.match(line)
        if m:
            where = m.group("where")
            block.append(_frame(module_from_path(where), m.group("func"), where))


_PARSERS = {
    "python": _parse_python,
    "jvm": _parse_jvm,
    "go": _parse_go,
    "php": _parse_php,
    "ruby": _parse_ruby,
    "dart": _parse_dart,
}
