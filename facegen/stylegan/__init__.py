"""Photoreal backend: our own StyleGAN2 (stylegan2-ada-pytorch layout) and StyleGAN3 (T, R)
generators in plain PyTorch, loaders for NVIDIA pickles, rosinality `.pt` files and our
safetensors files, and `StyleGANBackend`.

torch is imported only by the modules in this package, never by `facegen` at import time, so
the montage-only paths do not pay for it.
"""
