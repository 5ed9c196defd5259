"""The `review_feedback` stage: what people said on the story pull requests, observed from the forge."""
