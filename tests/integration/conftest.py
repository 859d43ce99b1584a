"""Integration tier: the real pieces together, against real services on this machine.

``redmine`` gives each test a pristine Redmine (no issues, no attachments) with an authenticated
``requests.Session``; ``redmine_server`` is the session-wide server. Both come from ``tests.support.redmine``, which
also says what the pristine server contains. ``scripts/test-all`` starts the server; by hand:
``./scripts/redmine-up`` (then ``./scripts/redmine-down``).
"""

from tests.support.redmine import redmine, redmine_server  # noqa: F401  (fixtures)
