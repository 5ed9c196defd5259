"""The `project_page` stage: one static HTML page per project, for people."""
