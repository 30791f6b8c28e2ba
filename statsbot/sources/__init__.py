"""One module per kind of source. Each turns validated config into validated results."""
