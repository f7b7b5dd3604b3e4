"""Shared fixtures. The real-server fixture lives in tests/temporal/conftest.py."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Large payloads make some examples slow on a shared 2-core machine; that is not a failure.
settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
