"""Stage 1: every source file of a project, parsed to structured text, with version history."""
