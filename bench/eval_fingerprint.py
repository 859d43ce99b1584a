"""Evaluation of error detection and fingerprinting on public data (issue 7). One command:

    python bench/eval_fingerprint.py [--datasets ../shared/datasets] [--show-errors SYSTEM]

Prints:
1. Grouping accuracy of ``reporter-app fingerprint --lines`` on Loghub-2k, per system, next to a naive
   baseline (mask every token containing a digit, group identical lines), drain3 when it is installed
   (0.9.11, default settings, fed the Content column), and Drain's published figures. "ours (raw)" is
   fed the raw log line, header and all, as the command gets it; "ours (content)" the Content column
   that the published figures were measured on. Then the templater's speed on those raw lines, next to
   the header split and masking alone (the part every line pays anyway) measured in the same run.
   ``--show-errors Windows`` also lists each true group (EventId) that is not exactly one of ours, with
   the templates its lines got.
2. Trace detection on fluent-plugin-detect-exceptions' fixtures: each exception is embedded in a stream
   (filler, exception, filler, exception, exception: the plugin's own test shape) and must come back
   as exactly those three events with their exact first and last lines; the plain-text negative must
   give nothing.
3. tdhopper real_log.log: how many distinct trace fingerprints (must be 1) for how many traces.

Grouping accuracy: a line counts as correct only when its predicted group holds exactly the lines of
its true group (EventId).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reporter_app.detect.commands import fingerprint_file
from reporter_app.detect.events import detect_events
from reporter_app.detect.fingerprint import fingerprint_event, fingerprint_lines
from reporter_app.detect.templater import tokens_of, templates_for

PUBLISHED_DRAIN = {
    "HDFS": 0.998, "Hadoop": 0.948, "Spark": 0.920, "Zookeeper": 0.967,
    "OpenSSH": 0.788, "Apache": 1.000, "Linux": 0.690, "Windows": 0.997,
}


def grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    true_groups: dict[Hashable, set[int]] = defaultdict(set)
    pred_groups: dict[Hashable, set[int]] = defaultdict(set)
    for index, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        true_groups[t].add(index)
        pred_groups[p].add(index)
    correct = sum(1 for i, (t, p) in enumerate(zip(truth, predicted)) if true_groups[t] == pred_groups[p])
    return correct / len(truth) if truth else 1.0


_DIGIT_TOKEN = re.compile(r"\S*\d\S*")


def naive(lines: Sequence[str]) -> list[str]:
    return [_DIGIT_TOKEN.sub("<*>", line) for line in lines]


def drain3_groups(lines: Sequence[str]) -> list[int] | None:
    try:
        from drain3 import TemplateMiner
        from drain3.template_miner_config import TemplateMinerConfig
    except ImportError:
        return None
    import logging

    logging.getLogger("drain3").setLevel(logging.ERROR)
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)
    ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
    matched = [miner.match(line) for line in lines]
    return [m.cluster_id if m is not None else i for m, i in zip(matched, ids)]


def ours_cli(path: Path) -> list[str]:
    out = io.StringIO()
    fingerprint_file(path, per_line=True, out=out)
    return out.getvalue().splitlines()


def load_templates(folder: Path) -> dict[str, str]:
    with open(folder / f"{folder.name}_2k.log_structured.csv", newline="", encoding="utf-8", errors="replace") as fh:
        return {row["EventId"]: row["EventTemplate"] for row in csv.DictReader(fh)}


def load_system(folder: Path) -> tuple[list[str], list[str], list[str]]:
    name = folder.name
    raw = (folder / f"{name}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    with open(folder / f"{name}_2k.log_structured.csv", newline="", encoding="utf-8", errors="replace") as fh:
        rows = list(csv.DictReader(fh))
    return raw, [r["Content"] for r in rows], [r["EventId"] for r in rows]


def show_errors(raw: Sequence[str], truth: Sequence[str], templates: dict[str, str]) -> None:
    """Each true group that is not exactly one of ours: its EventTemplate, then our templates for its lines."""
    found = templates_for(raw)
    ours: dict[int, set[int]] = defaultdict(set)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, (event, template) in enumerate(zip(truth, found, strict=True)):
        ours[template.id].add(index)
        groups[event].append(index)
    for event, indices in sorted(groups.items(), key=lambda item: -len(item[1])):
        got = Counter(found[i].id for i in indices)
        if len(got) == 1 and ours[next(iter(got))] == set(indices):
            continue
        print(f"  {event} ({len(indices)} lines): {templates.get(event, '?')}")
        for template_id, count in got.most_common(5):
            mixed = Counter(truth[i] for i in ours[template_id])
            text = next(found[i].text for i in ours[template_id])
            print(f"    {count} of them in ours #{template_id} ({len(ours[template_id])} lines, "
                  f"true {', '.join(f'{e}: {n}' for e, n in mixed.most_common(3))}): {text}")


def throughput(lines: Sequence[str]) -> tuple[float, float]:
    """Lines per second of ``fingerprint --lines`` and of the header split + masking alone (best of 3 runs each)."""
    def best(run: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        return len(lines) / min(times)
    return best(lambda: fingerprint_lines(lines)), best(lambda: [tokens_of(line) for line in lines])


def evaluate_loghub(root: Path, show: Sequence[str] = ()) -> None:
    systems = sorted(p for p in (root / "loghub").iterdir() if p.is_dir())
    all_raw: list[list[str]] = []
    header = f"{'system':<10} {'ours(raw)':>9} {'ours(content)':>13} {'naive':>6} {'drain3(content)':>15} {'Drain pub.':>10}"
    print("Grouping accuracy, Loghub-2k\n" + header + "\n" + "-" * len(header))
    totals: dict[str, list[float]] = defaultdict(list)
    for folder in systems:
        raw, content, truth = load_system(folder)
        if len(raw) != len(truth):
            print(f"{folder.name}: {len(raw)} lines vs {len(truth)} labels, skipped")
            continue
        all_raw.append(raw)
        scores: dict[str, float | None] = {
            "raw": grouping_accuracy(truth, ours_cli(folder / f"{folder.name}_2k.log")),
            "content": grouping_accuracy(truth, fingerprint_lines(content)),
            "naive": grouping_accuracy(truth, naive(content)),
        }
        d3 = drain3_groups(content)  # its best case: fed the Content column, as the published figures were
        scores["drain3"] = grouping_accuracy(truth, d3) if d3 is not None else None
        scores["published"] = PUBLISHED_DRAIN.get(folder.name)
        for key, value in scores.items():
            if value is not None:
                totals[key].append(value)

        def cell(key: str, width: int, scores: dict[str, float | None] = scores) -> str:
            value = scores[key]
            return f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"

        print(f"{folder.name:<10} {cell('raw', 9)} {cell('content', 13)} {cell('naive', 6)} {cell('drain3', 15)} "
              f"{cell('published', 10)}")
        if folder.name in show:
            show_errors(raw, truth, load_templates(folder))

    def mean(key: str) -> str:
        values = totals.get(key, [])
        return f"{sum(values) / len(values):.3f}" if values else "-"

    print(f"{'mean':<10} {mean('raw'):>9} {mean('content'):>13} {mean('naive'):>6} {mean('drain3'):>15} "
          f"{mean('published'):>10}")
    # One templater per file, as the command runs; the reference is the per-line work before it.
    runs = [throughput(raw) for raw in all_raw]
    count = sum(len(raw) for raw in all_raw)
    ours = count / sum(len(raw) / r[0] for raw, r in zip(all_raw, runs)) if runs else 0.0
    base = count / sum(len(raw) / r[1] for raw, r in zip(all_raw, runs)) if runs else 0.0
    print(f"\nSpeed on the {count} raw lines: fingerprint --lines {ours:,.0f} lines/s; header split + masking "
          f"alone {base:,.0f} lines/s (ratio {ours / base if base else 0.0:.2f})")


def evaluate_fluent(root: Path) -> None:
    folder = root / "stacktraces" / "fluent_detect_exceptions"
    fixtures = {p.stem: p.read_text(encoding="utf-8").splitlines() for p in sorted(folder.glob("*.txt"))}
    # The plugin's own test joins the two parts into one exception (JAVA_EXC).
    if "JAVA_EXC_PART1" in fixtures and "JAVA_EXC_PART2" in fixtures:
        fixtures["JAVA_EXC"] = fixtures.pop("JAVA_EXC_PART1") + fixtures.pop("JAVA_EXC_PART2")
    negative = fixtures.pop("ARBITRARY_TEXT", [])
    filler = ["This is not an exception."]
    found = 0
    failures: list[str] = []
    for name, exc in fixtures.items():
        stream = filler + exc + filler + exc + exc
        n = len(exc)
        want = [(2, n + 1), (n + 3, 2 * n + 2), (2 * n + 3, 3 * n + 2)]
        events = detect_events(stream)
        got = [(e.line_number, e.last_line_number) for e in events if e.kind == "trace"]
        if got == want and len(events) == 3:
            found += 1
        else:
            failures.append(f"{name}: want {want}, got {got}")
    negative_events = detect_events(negative)
    print(f"\nTrace detection, fluent-plugin-detect-exceptions fixtures: {found}/{len(fixtures)} exceptions found whole "
          f"(3 occurrences each, exact first and last line); negative: {len(negative_events)} events (want 0)")
    for failure in failures:
        print("  FAIL", failure)
    # Same-bug grouping across the fixtures: each fixture's three copies must share one fingerprint.
    split = [name for name, exc in fixtures.items()
             if len({fingerprint_event(e) for e in detect_events(filler + exc + filler + exc + exc)}) != 1]
    print(f"  fingerprint identical for the 3 copies: {len(fixtures) - len(split)}/{len(fixtures)}"
          + (f" (split: {', '.join(split)})" if split else ""))
    distinct = {fingerprint_event(detect_events(exc)[0]) for exc in fixtures.values() if detect_events(exc)}
    print(f"  distinct fingerprints over {len(fixtures)} different exceptions: {len(distinct)}")


def evaluate_tdhopper(root: Path) -> None:
    path = root / "stacktraces" / "tdhopper_exception" / "real_log.log"
    events = detect_events(path.read_text(encoding="utf-8").splitlines())
    traces = [e for e in events if e.kind == "trace"]
    groups = {fingerprint_event(e) for e in traces}
    lines = [e for e in events if e.kind == "line"]
    print(f"\ntdhopper real_log.log: {len(traces)} traces -> {len(groups)} trace group(s) (want 1); "
          f"{len(lines)} single ERROR lines -> {len({fingerprint_event(e) for e in lines})} group(s)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    default = Path(__file__).resolve().parents[2] / "shared" / "datasets"
    parser.add_argument("--datasets", type=Path, default=default)
    parser.add_argument("--show-errors", action="append", default=[], metavar="SYSTEM",
                        help="list the mis-grouped lines of this Loghub system (repeatable)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    evaluate_loghub(args.datasets, args.show_errors)
    evaluate_fluent(args.datasets)
    evaluate_tdhopper(args.datasets)
    print(f"\n({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
