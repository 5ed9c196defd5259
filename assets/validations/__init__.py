"""Stage 5: the generated tests run in a sandbox, and acceptance-criterion coverage."""
