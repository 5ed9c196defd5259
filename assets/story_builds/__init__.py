"""Stage 4: each story built on top of the ones before it, as its own change to the generated code."""
