"""Errors of the StyleGAN backend, each meant to be shown to a person as one line (Unsupported
and NoDirection are the backend contract's: facegen/backend.py)."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint file that is missing, corrupt, unsafe or of an unsupported architecture."""
