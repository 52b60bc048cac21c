"""mammoview: a mammography viewer with a deep-learning CAD second reader (research use only)."""

__version__ = "0.1.0"
