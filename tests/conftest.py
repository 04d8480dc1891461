"""Settings shared by every kind of test.

Hypothesis runs derandomized: the property tests draw the same examples on every
run, so a CI result depends on the code, not on the seed of the day. Examples
that once failed are pinned with ``@example`` beside their test.
"""

from hypothesis import settings

settings.register_profile("vaeapp", derandomize=True, database=None, deadline=None)
settings.load_profile("vaeapp")
