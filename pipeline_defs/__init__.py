"""The ai-pipeline code location: settings, resources, jobs and automation assembled in one place.

Dagster marks preview and beta parameters (partitioned checks, pools) with a warning per asset as the
stages are defined, and its own CLI recommends `dg`: noise to a person reading the logs. They are
silenced here, before any stage is imported, for these categories only and only in the processes that
load this package (the code location, the CLI); Dagster's other warnings stay on.
"""

import warnings

import dagster as dg

for _category in (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning):
    warnings.filterwarnings("ignore", category=_category)
