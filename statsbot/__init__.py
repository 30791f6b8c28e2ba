"""statsbot: fresh citation, star and download counts for researchers' homepages."""

__version__ = "0.1.0"
