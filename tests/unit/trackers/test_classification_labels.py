from reporter_app.model import Impact, Priority, Reach, Report
from reporter_app.trackers.markdown_text import classification_labels


def test_priority_impact_reach_and_component_become_labels():
    report = Report(title="t", impact=Impact.BLOCKER, reach=Reach.MANY_USERS, priority=Priority.P1,
                    component="billing")
    assert classification_labels(report) == ["P1", "impact-blocker", "reach-many_users", "component-billing"]


def test_no_component_no_component_label():
    assert classification_labels(Report(title="t")) == ["P3", "impact-minor", "reach-just_me"]
