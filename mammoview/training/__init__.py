"""Patch extraction, datasets, training loop, evaluation and plots (no Qt)."""
