"""The ai-pipeline code location: settings, resources, jobs and automation assembled in one place."""
