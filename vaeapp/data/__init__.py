"""Images to train on and to test with: MNIST, Fashion-MNIST, the generated
shapes, folders of one's own images, the shipped test sets, and the
preparation of a picture someone gives the page.

Imports :mod:`vaeapp.core` (Keras only to download MNIST for real users).
"""
