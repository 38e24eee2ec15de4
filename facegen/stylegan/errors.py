"""Errors of the StyleGAN backend, each meant to be shown to a person as one line."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint file that is missing, corrupt, unsafe or of an unsupported architecture."""


class Unsupported(NotImplementedError, ValueError):
    """An operation the stylegan backend cannot do (yet); the message says which and why.
    Also a ValueError, so command-line error handling reports it in one line; `code` is how
    the chat words it."""
    code = "unsupported"
