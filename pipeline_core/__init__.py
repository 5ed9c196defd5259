"""What every layer shares, below them all: settings, the partitions definition, hashing.

`pipeline_defs` (the composition root), the stages in `assets/`, `resources/` and `sensors/` import
from here; this package imports none of them.
"""
