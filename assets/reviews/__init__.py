"""The `reviews` stage: story pull requests' review state, and approved ones merged into main."""
