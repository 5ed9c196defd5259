"""One subpackage per pipeline stage: the thin @asset beside the plain-Python logic it calls."""
