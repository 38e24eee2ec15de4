"""Training StyleGAN2 on our own faces (issue #16): datasets in stylegan2-ada-pytorch's layout,
the StyleGAN2-ADA loss on our networks, and one training step in the reference phase order."""
