"""Shared fixtures. The real-server fixture lives in tests/temporal/conftest.py."""

from __future__ import annotations

import os
import signal

from hypothesis import HealthCheck, settings

# A shell that starts a job in the background (nohup, `&` without job control, some CI runners)
# makes it ignore SIGINT, and children inherit that: the Ctrl-C tests would then send a signal
# the harness never sees. A terminal never does this; give the tests' children what it gives.
signal.signal(signal.SIGINT, signal.default_int_handler)

# Large payloads make some examples slow on a shared 2-core machine; that is not a failure.
settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
