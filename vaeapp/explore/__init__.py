"""Questions asked of a trained model, in NumPy: encodings, neighbours and
paths, the map's plane (and the stored UMAP plane, made by ``planes``),
selections and search on the map, the manifold grid, traversals, scores,
comparisons, a model's facts, and pictures of it all.

Imports :mod:`vaeapp.store` and the layers below it.
"""
