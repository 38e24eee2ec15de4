"""Errors of the StyleGAN backend, each meant to be shown to a person as one line."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint file that is missing, corrupt, unsafe or of an unsupported architecture."""


class Unsupported(NotImplementedError, ValueError):
    """An operation the stylegan backend cannot do (yet); the message says which and why.
    Also a ValueError, so command-line error handling reports it in one line; `code` is how
    the chat words it."""
    code = "unsupported"


class NoDirection(Unsupported):
    """An attribute edit or description this checkpoint has no direction for. `values` names the
    attribute and the ones it has, for the chat's reply."""
    code = "no_direction"

    def __init__(self, attribute: str, available: list[str]) -> None:
        have = ", ".join(available) if available else "none (set DREAMFACE_STYLEGAN_DIRECTIONS)"
        super().__init__(f"this model has no direction for {attribute!r}; directions it has: {have}")
        self.values = {"attribute": attribute, "available": list(available)}
