"""Stage 3: components, stacks, API contract, data model and the story-to-component map."""
