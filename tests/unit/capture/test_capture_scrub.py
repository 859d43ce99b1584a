from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capture.scrub import DEFAULT_RULES, ScrubRule, Scrubber, marker

# One positive per provider: (text, rule that must fire, secret that must vanish).
POSITIVES = [
    ("token ghp_" + "a" * 36, "github-token", "ghp_" + "a" * 36),
    ("gho_" + "B1" * 18, "github-token", "gho_" + "B1" * 18),
    ("ghs_" + "c" * 36 + " end", "github-token", "ghs_" + "c" * 36),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github-token", "github_pat_11ABCDEFG"),
    ("glpat-abcdefghij0123456789", "gitlab-token", "glpat-abcdefghij0123456789"),
    ("SLACK=xoxb-1234567890-abcdefghij", "slack-token", "xoxb-1234567890-abcdefghij"),
    ("post https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXX", "slack-webhook", "T0000/B0000/XXXX"),
    ("id AKIAIOSFODNN7EXAMPLE", "aws-access-key-id", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-secret-key", "wJalrXUtnFEMI"),
    ("key AIzaSyA1234567890abcdefghijklmnopqrstuv", "google-api-key", "AIzaSyA1234567890"),
    ("sk_live_abcdefghijklmnop1234", "stripe-key", "sk_live_abcdefghijklmnop1234"),
    ("rk_live_abcdefghijklmnop1234", "stripe-key", "rk_live_abcdefghijklmnop1234"),
    ("OPENAI sk-proj-abcdefghijklmnopqrstuvwxyz12345", "openai-key", "abcdefghijklmnopqrstuvwxyz12345"),
    ("sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", "openai-key", "abcdefghijklmnopqrstuvwxyz"),
    ("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt", "dozjg"),
    ("Authorization: Bearer abc.def.ghi123", "auth-header", "abc.def.ghi123"),
    ("authorization: Basic dXNlcjpwYXNz", "auth-header", "dXNlcjpwYXNz"),
    ('Authorization: Digest username="Mufasa", response="6629fae4"', "auth-header", "6629fae4"),
    ("got bearer abcdefgh12345678", "bearer-token", "abcdefgh12345678"),
    ("postgres://ada:s3cr3t@db.example.com/app", "url-password", "s3cr3t"),
    ("redis://:hunter2@localhost:6379", "url-password", "hunter2"),
    ("password=hunter2 rest", "secret-value", "hunter2"),
    ("db_passwd: hunter3", "secret-value", "hunter3"),
    ('{"api_key": "abc def"}', "secret-value", "abc def"),
    ("apiKey=xyz123", "secret-value", "xyz123"),
    ("userPassword=foo42", "secret-value", "foo42"),
    ("client_secret='s3'", "secret-value", "s3"),
    ("access_token: ya29.abc", "secret-value", "ya29.abc"),
    ("private_key=abc", "secret-value", "abc"),
    ("Cookie: sessionid=abc; csrftoken=def", "cookie", "sessionid=abc"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----", "private-key", "MIIEow"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", "private-key", "abc"),  # cut off: redact to the end
]

NEGATIVES = [
    "bypass=1 passed=3 author=ada authentication=ok",
    "tokens: 5",
    "password=true password=${DB_PASSWORD} password=<redacted>",
    "http://example.com:8080/path@foo",
    "ghp_short",
    "task-manager sk-short",
    "AKIAshort",
    "a plain line about keys and tokens without values",
    "Failed password for invalid user admin from 10.0.0.1 port 22 ssh2",
    "uuid 203db13e-70c7-462b-9a3d-bf32640cb0be",
]


@pytest.mark.parametrize("text,rule,secret", POSITIVES)
def test_each_provider_is_redacted(text: str, rule: str, secret: str) -> None:
    result = Scrubber().scrub(text)
    assert secret not in result.text
    assert marker(rule) in result.text
    assert result.counts.get(rule, 0) >= 1


@pytest.mark.parametrize("text", NEGATIVES)
def test_negatives_are_untouched(text: str) -> None:
    result = Scrubber().scrub(text)
    assert result.text == text
    assert result.counts == {}


def test_url_keeps_the_user_and_host() -> None:
    assert Scrubber().scrub("https://ada:pw@example.com/x").text == "https://ada:[REDACTED:url-password]@example.com/x"


def test_auth_header_keeps_the_scheme() -> None:
    assert Scrubber().scrub("Authorization: Bearer abcdefgh").text == "Authorization: Bearer [REDACTED:auth-header]"


def test_json_stays_json_shaped() -> None:
    assert Scrubber().scrub('{"password": "a b"}').text == '{"password": "[REDACTED:secret-value]"}'


def test_counts_per_kind() -> None:
    result = Scrubber().scrub("password=a\npassword=b\nghp_" + "x" * 36)
    assert result.counts == {"secret-value": 2, "github-token": 1}
    assert result.total == 3


def test_optional_email_ip_home() -> None:
    text = "mail ada@example.com @decorator 10.0.0.1 fe80::1ff:fe23:4567:890a 2001:db8::1 12:34:56 /home/ada/x /home/adam"
    plain = Scrubber().scrub(text)
    assert plain.text == text
    result = Scrubber(emails=True, ips=True, home="/home/ada").scrub(text)
    assert result.text == (
        "mail [REDACTED:email] @decorator [REDACTED:ipv4] [REDACTED:ipv6] [REDACTED:ipv6] 12:34:56 ~/x /home/adam"
    )
    assert result.counts == {"email": 1, "ipv4": 1, "ipv6": 2, "home-path": 1}


def test_ipv4_leaves_versions_alone() -> None:
    assert Scrubber(ips=True).scrub("version 1.2.3.4.5 and 999.1.1.1").counts == {}


def test_custom_rules_are_data() -> None:
    rule = ScrubRule("ticket-secret", r"TKT-(?P<secret>\d{6})", group="secret", keywords=("TKT-",))
    scrubber = Scrubber([*DEFAULT_RULES, rule])
    assert scrubber.scrub("see TKT-123456").text == "see TKT-[REDACTED:ticket-secret]"


def test_scrub_mapping_by_name_and_value() -> None:
    env = {"GITHUB_TOKEN": "abc", "PWD": "/home/ada", "HTTP_PROXY": "http://u:p@proxy:3128", "LANG": "C"}
    values, counts = Scrubber().scrub_mapping(env)
    assert values == {
        "GITHUB_TOKEN": "[REDACTED:secret-value]",
        "PWD": "/home/ada",
        "HTTP_PROXY": "http://u:[REDACTED:url-password]@proxy:3128",
        "LANG": "C",
    }
    assert counts == {"secret-value": 1, "url-password": 1}


def test_empty_text() -> None:
    assert Scrubber().scrub("").text == ""


def test_non_ascii_case_folding_does_not_misalign() -> None:
    # "İ".lower() is two code points: the keyword line search must not cut at wrong offsets.
    text = "İİİ password=hunter2 İ"
    result = Scrubber().scrub(text)
    assert "hunter2" not in result.text and result.text.startswith("İİİ password=")


_ALPHABET = st.sampled_from(
    list("abcxyz0129 =:\"'@/._-\n") + ["password", "token", "ghp_", "Bearer ", "://", "AKIA", "İ", "é", "eyJ"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_scrub_never_crashes_and_is_idempotent(text: str) -> None:
    scrubber = Scrubber(emails=True, ips=True, home="/home/ada")
    once = scrubber.scrub(text)
    twice = scrubber.scrub(once.text)
    assert twice.text == once.text
    assert twice.counts == {}
