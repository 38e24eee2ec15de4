"""Inference side: face codes, latent math, backends, descriptions, and the worker.
Only `facegen.worker` touches storage; everything else is pure model code."""
