"""Stage 2: user stories drawn from the documents, with stable ids and traces."""
