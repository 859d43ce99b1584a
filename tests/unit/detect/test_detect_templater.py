"""Log-line templates: header removal, masking, Drain grouping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporter_app.detect.fingerprint import fingerprint_lines
from reporter_app.detect.templater import (
    LineTemplater,
    mask,
    split_header,
    templates_for,
)


def test_split_header_common_formats() -> None:
    assert split_header("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating") == (
        "dfs.DataNode$PacketResponder", "PacketResponder 1 terminating")
    assert split_header("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 1.2.3.4") == (
        "sshd", "Invalid user webmaster from 1.2.3.4")
    assert split_header("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok") == ("", "workerEnv.init() ok")
    assert split_header("2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:"
                        "FastLeaderElection@774] - Notification time out: 3200") == ("", "Notification time out: 3200")
    assert split_header("plain text line") == ("", "plain text line")


def test_mask_values() -> None:
    assert mask("user 42 from 10.0.0.1:22 at /var/log/x.log id=0x1f") == "user <#> from <#> at <#> id=<#>"
    assert mask("connection from host-1.example.com (x) at Fri Jun 17 07:07:00 2005") == \
        "connection from <#> (x) at <#>"


def test_drain_learns_a_variable_word() -> None:
    lines = [f"Dec 10 06:55:46 LabSZ sshd[1]: session opened for user {u} by (uid=0)" for u in
             ("root", "cyrus", "news", "test", "root")] + ["Dec 10 06:55:46 LabSZ sshd[1]: Connection closed by 1.2.3.4"]
    templates = templates_for(lines)
    assert len({t.id for t in templates[:5]}) == 1
    assert templates[0].text == "session opened for user <*> by (uid=<#>)"
    assert templates[5].id != templates[0].id


def test_fingerprint_lines_are_stable_and_one_per_line() -> None:
    lines = ["a 1", "a 2", "b c"]
    first = fingerprint_lines(lines)
    assert first == fingerprint_lines(lines)
    assert len(first) == 3 and first[0] == first[1] != first[2]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=30))
def test_never_crashes_on_arbitrary_text(lines: list[str]) -> None:
    templater = LineTemplater()
    for line in lines:
        templater.add(line)
    assert len(fingerprint_lines(lines)) == len(lines)


# Made-up lines in a common "date time, Level  Component  message" shape: no dataset text.
def _plugin_line(second: int, plugin: str, batch: int = 7) -> str:
    return f"2023-03-01 10:00:{second:02d}, Info  Loader  Batch {batch}_{second} handed over to plugin {plugin}."


def test_a_word_settled_over_many_lines_keeps_an_odd_line_apart() -> None:
    # Ten lines with "Indexer." make it the statement's text; the one "Mailer." line is another statement.
    lines = [_plugin_line(s, "Indexer") for s in range(12)] + [_plugin_line(40, "Mailer")]
    templates = templates_for(lines)
    assert len({t.id for t in templates[:12]}) == 1
    assert templates[12].id != templates[0].id
    assert templates[0].text == "Batch <#> handed over to plugin Indexer."
    assert templates[12].text == "Batch <#> handed over to plugin Mailer."


def test_a_word_that_varies_before_it_settles_becomes_a_wildcard() -> None:
    # The same two statements' shape, but the second value comes early: Drain's usual merge.
    lines = [_plugin_line(0, "Indexer"), _plugin_line(1, "Mailer")] + [_plugin_line(s, "Indexer") for s in range(2, 12)]
    templates = templates_for(lines)
    assert len({t.id for t in templates}) == 1
    assert templates[0].text == "Batch <#> handed over to plugin <*>"


def test_a_settled_word_that_later_takes_several_values_groups_all_its_lines_again() -> None:
    # A run of one user name first (a burst of attempts), then others: the split-off template sees the
    # position vary, and the second pass puts the first run's lines into that more general template.
    users = ["root"] * 15 + ["alice", "bob", "carol", "root", "dave"]
    lines = [f"Mar  1 10:00:{i:02d} gate authd[{100 + i}]: rejected password for {u} from 10.0.0.{i} port 22"
             for i, u in enumerate(users)]
    templater = LineTemplater()
    learnt = [templater.add(line) for line in lines]
    assert learnt[15].id != learnt[0].id  # "alice" was not merged into the settled "root" template
    templates = templates_for(lines, LineTemplater())
    assert len({t.id for t in templates}) == 1
    assert templates[0].text == "rejected password for <*> from <#> port <#>"


def test_match_prefers_the_most_general_template_that_fits() -> None:
    templater = LineTemplater(settle_after=2)
    for user in ("root", "root", "alice", "bob"):
        templater.add(f"rejected password for {user} from host")
    specific, general = templater.templates
    assert specific.text == "rejected password for root from host"
    assert general.text == "rejected password for <*> from host"
    assert templater.match("rejected password for root from host") is general


def test_masked_values_never_settle() -> None:
    # "[<#>]" and "[]" differ only where a value was masked: that position is a value, settled or not.
    lines = [f"worker started task {i} on queue main [{i}]" for i in range(12)] + \
        ["worker started task 99 on queue main []"]
    templates = templates_for(lines)
    assert len({t.id for t in templates}) == 1
    assert templates[0].text == "worker started task <#> on queue main <*>"


def test_bad_settings_give_a_clear_error() -> None:
    with pytest.raises(ValueError, match="similarity must be between 0 and 1, got 80"):
        LineTemplater(similarity=80)
    with pytest.raises(ValueError, match="settle_after must be at least 1 line, got 0"):
        LineTemplater(settle_after=0)
