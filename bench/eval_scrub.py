"""Scrubber recall and false positives: Yelp detect-secrets test data, then our own cases per provider.

detect-secrets' ``baseline.file`` lists (file, line, type) it flags; many of its types are entropy-only
("Base64/Hex High Entropy String"), which a rule-based scrubber deliberately does not chase (hashes, ids and
UUIDs in logs would all go). So recall is printed per type. Files the dataset names as holding no secrets
must give no hit at all.
Run: python bench/eval_scrub.py
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capture.scrub import Scrubber  # noqa: E402

DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "secrets" / "detect_secrets_test_data"
NO_SECRET_FILES = [
    "files/file_with_no_secrets.py",
    "files/tmp/file_with_no_secrets.py",
    "files/file_with_custom_secrets.py",  # "custom" secrets only for a custom plugin: plain strings to us
    "only_comments.yaml",
    "word_list.txt",
    "performance/best-songs.txt",
    "performance/long-file.test.json",
    "performance/long-lines.test.json",
]

# (provider rule, text holding one secret, the secret) and hard negatives per provider.
OWN_POSITIVES = [
    ("github-token", "export GH=ghp_1234567890abcdefghijABCDEFGHIJ123456", "ghp_1234567890"),
    ("github-token", "gho_abcdefghijABCDEFGHIJ0123456789abcdef", "gho_abcdefghij"),
    ("github-token", "token: github_pat_11AAAAAAA0aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "github_pat_"),
    ("gitlab-token", "PRIVATE-TOKEN: glpat-xxxxxxxxxxxxxxxxxxxx", "glpat-xxxx"),
    ("slack-token", "SLACK_BOT=xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy", "xoxb-1765"),
    ("slack-token", "xoxp-4956821-4956833-4956840-1a2b3c", "xoxp-4956821"),
    ("slack-webhook", "POST https://hooks.slack.com/services/T02ABCDEF/B02ABCDEF/abcdefghijklmnopqrstuvwx", "T02ABCDEF/B02"),
    ("aws-access-key-id", "aws_access_key_id=AKIAQWERTYUIOPASDFGH", "AKIAQWERTYUIOPASDFGH"),
    ("aws-access-key-id", "temp creds ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"),
    ("aws-secret-key", "AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("google-api-key", "maps?key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI&x=1", "AIzaSyDdI0hCZtE6"),
    ("stripe-key", "Stripe.api_key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'", "sk_live_4eC39"),
    ("stripe-key", "rk_live_51H8mSTHeKvTrXhYRq0abcdefgh", "rk_live_51H8"),
    ("openai-key", "OPENAI_API_KEY=sk-proj-Ab3dEf6hIjKlMnOpQrStUvWxYz0123456789", "Ab3dEf6hIjKl"),
    ("openai-key", "client = OpenAI(api_key='sk-Ab3dEf6hIjKlMnOpQrStT3BlbkFJUvWxYz0123456789')", "Ab3dEf6hIjKl"),
    ("jwt", "id_token=eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.POstGetfAytaZS82wHcjoTyoqhMyxXiWdR7Nn7A29DNSl0EiXLdwJ6xC6AfgZWF1bOsS_TuYI3OG85AmiExREkrS6tDfTQ2B3WXlrr-wp5AokiRbz3_oB4OxG-W9KcEEbDRcZc0nH3L7LzYptiy1PtAylQGxHTWZXtGz4ht0bAecBgmpdgXMguEIcoqPJ1n3pIWk_dUZegpqx0Lka21H6XxUTxiy8OcaarA8zdnPUnV6AmNP3ecFawIFYdvJB_cm-GvpCSbr8G8y_Mllj8f4x9nBH8pQux89_6gUY618iYv7tuPWBFfEbLxtF2pZS6YC1aSfLQxeNe8djT9YjpvRZA", "POstGetfAyta"),
    ("auth-header", "-H 'Authorization: Bearer 0b79bab50daca910b000d4f1a2b675d604257e42'", "0b79bab50daca"),
    ("auth-header", "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "QWxhZGRpbjpv"),
    ("url-password", "DATABASE_URL=postgresql://app:Tr0ub4dor&3@db.internal:5432/app", "Tr0ub4dor"),
    ("url-password", "amqp://guest:guest@rabbit:5672/", "guest@"),
    ("secret-value", "db.password = s3cr3t!", "s3cr3t!"),
    ("secret-value", '{"client_secret": "6f1d-very-secret"}', "6f1d-very-secret"),
    ("secret-value", "MYSQL_PWD=hunter2", "hunter2"),
    ("secret-value", "refreshToken: 'abc.def'", "abc.def"),
    ("private-key", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----", "MHcCAQEEIBkg"),
    ("private-key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----", "lQOYBF"),
    ("cookie", "Cookie: _session=8f3a9c; theme=dark", "8f3a9c"),
]
OWN_NEGATIVES = [
    "commit 8b1118b376c313ed420e5133ba91307817ed52c2 merged",
    "request id 203db13e-70c7-462b-9a3d-bf32640cb0be",
    "ghp_ is the prefix of a classic token",
    "password reset email sent to user 42",
    "Failed password for invalid user admin from 10.0.0.1 port 22 ssh2",
    "auth:SIMPLE successful for job_1445144423722_0020",
    "tokens: 128 used of 4096",
    "https://example.com:8443/path?q=1",
    "see https://github.com/org/repo/blob/main/README.md",
    "key=value pairs are parsed by the config loader",
    "bypass=1 passed=3 author=ada authentication=ok compass=north",
    "password: ${DB_PASSWORD} token=<token> secret=*****",
    "AKIA is the prefix of an AWS key id",
    "task-scheduler-thread-pool-worker-1 started",
    "The Authorization header is missing",
]


def changed_lines(scrubber: Scrubber, text: str) -> set[int]:
    """1-based numbers of lines the scrubber changes (a multi-line private key counts at its first line)."""
    lines = text.split("\n")
    changed = {i for i, line in enumerate(lines, 1) if scrubber.scrub(line).text != line}
    if scrubber.scrub(text).counts.get("private-key"):
        changed |= {i for i, line in enumerate(lines, 1) if "PRIVATE KEY-----" in line and "BEGIN" in line}
    return changed


_CANDIDATE = re.compile(r"[^\s'\":=,()\[\]{}@]+")


def locate(lines: list[str], hashed: str, fallback: int) -> int:
    """The line whose token hashes to the baseline's ``hashed_secret`` (sha1): the baseline's numbers are stale."""
    for number, line in enumerate(lines, 1):
        for token in _CANDIDATE.findall(line):
            if hashlib.sha1(token.encode()).hexdigest() == hashed:
                return number
    return fallback


def eval_dataset(scrubber: Scrubber) -> None:
    baseline = json.loads((DATASET / "baseline.file").read_text())
    flagged: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    moved = 0
    for name, results in baseline["results"].items():
        file_lines = (DATASET / name).read_text(encoding="utf-8", errors="replace").split("\n")
        for result in results:
            number = locate(file_lines, result["hashed_secret"], result["line_number"])
            moved += number != result["line_number"]
            flagged[name][number].add(result["type"])

    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # type -> [found, total]
    stale = 0
    extra: list[str] = []
    for name, lines in sorted(flagged.items()):
        text = (DATASET / name).read_text(encoding="utf-8", errors="replace")
        all_lines = text.split("\n")
        changed = changed_lines(scrubber, text)
        for number, types in sorted(lines.items()):
            if number > len(all_lines) or not all_lines[number - 1].strip():
                stale += 1  # the baseline predates the fixture's current content
                continue
            for kind in types:
                by_type[kind][1] += 1
                by_type[kind][0] += number in changed
        for number in sorted(changed - set(lines)):
            extra.append(f"{name}:{number}: {all_lines[number - 1].strip()[:90]}")

    print("detect-secrets baseline: lines its plugins flag, and how many we redact")
    found = total = 0
    for kind, (hit, count) in sorted(by_type.items()):
        found, total = found + hit, total + count
        print(f"  {kind:30s} {hit:2d}/{count:2d}  recall {hit / count:5.0%}")
    non_entropy = [(h, c) for k, (h, c) in by_type.items() if "Entropy" not in k]
    ne_hit, ne_total = sum(h for h, _ in non_entropy), sum(c for _, c in non_entropy)
    print(f"  all flagged (line, type) pairs {found}/{total}  recall {found / total:.0%}")
    print(f"  excluding entropy-only types   {ne_hit}/{ne_total}  recall {ne_hit / ne_total:.0%}")
    print(f"  baseline entries relocated by their sha1 (line numbers drifted): {moved}")
    print(f"  baseline entries pointing at blank/missing lines (stale, not counted): {stale}")
    print(f"  lines we redact that detect-secrets does not flag: {len(extra)}")
    for line in extra:
        print(f"    {line}")

    print("files with no secrets: hits must be 0")
    false_positives = 0
    for name in NO_SECRET_FILES:
        path = DATASET / name
        if not path.exists():
            continue
        counts = scrubber.scrub(path.read_text(encoding="utf-8", errors="replace")).counts
        false_positives += sum(counts.values())
        print(f"  {name:40s} hits {sum(counts.values())} {counts if counts else ''}")
    print(f"  total false positives in no-secret files: {false_positives}")


def eval_own(scrubber: Scrubber) -> None:
    print("own cases per provider")
    per_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for rule, text, secret in OWN_POSITIVES:
        result = scrubber.scrub(text)
        ok = secret not in result.text and result.counts.get(rule, 0) > 0
        per_rule[rule][0] += ok
        per_rule[rule][1] += 1
        if not ok:
            misses.append(f"{rule}: {text[:70]} -> {result.text[:70]}")
    for rule, (hit, count) in sorted(per_rule.items()):
        print(f"  {rule:20s} {hit}/{count}")
    recall = sum(h for h, _ in per_rule.values()) / len(OWN_POSITIVES)
    fps = [(text, scrubber.scrub(text)) for text in OWN_NEGATIVES]
    fp = [(t, r) for t, r in fps if r.counts]
    print(f"  recall {recall:.0%} ({len(OWN_POSITIVES)} cases); false positives {len(fp)}/{len(OWN_NEGATIVES)} negatives")
    for line in misses:
        print(f"    missed {line}")
    for text, result in fp:
        print(f"    false positive {text!r} -> {result.text!r}")


def main() -> int:
    scrubber = Scrubber()
    if DATASET.exists():
        eval_dataset(scrubber)
    else:
        print(f"skipped the dataset part: {DATASET} is absent")
    eval_own(scrubber)
    return 0


if __name__ == "__main__":
    sys.exit(main())
