"""Suite-wide test configuration: deterministic hypothesis runs.

Hypothesis profiles (tests/README.md): ``ci`` (the default) is derandomized, so
every run draws the same examples; ``dev`` explores new random examples on every
run. Select one with ``HYPOTHESIS_PROFILE=dev pytest ...`` or
``pytest --hypothesis-profile=dev ...``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,  # examples drawn from a hash of the test, the same on every run
    database=None,  # no .hypothesis/ example database replaying earlier failures
    deadline=None,  # no timing assertions (numba compilation, loaded CI machines)
    print_blob=True,  # a failure prints the @reproduce_failure blob
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
