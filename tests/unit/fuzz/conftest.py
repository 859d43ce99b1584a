"""Hypothesis profile of the fuzz tests: CI-sized by default, bigger on demand.

RELIABILITY_FUZZ_EXAMPLES sets max_examples per test (default 60; bench/reliability.py runs 300). No deadline:
a slow CI machine must not turn a slow example into a failure; the point here is what escapes, not speed.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "reporter-fuzz",
    max_examples=int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    # No "explain" phase: it re-runs a failure hundreds of times to annotate it, minutes on a tracker example.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    derandomize=os.environ.get("RELIABILITY_FUZZ_RANDOM") != "1",  # reproducible in CI; random when asked
)
