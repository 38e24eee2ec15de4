"""Inference side: face codes, latent math, backends, descriptions, and the job handlers
that run them (facegen/handlers.py, the one module here that touches storage)."""
