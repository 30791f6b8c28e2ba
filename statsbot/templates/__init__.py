"""Files that `statsbot init` writes."""
