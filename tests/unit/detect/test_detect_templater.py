"""Log-line templates: header removal, masking, Drain grouping."""

from __future__ import annotations

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
