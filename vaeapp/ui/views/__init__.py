"""The page's views, each in one keyed fragment: the explorer (map, image,
sliders), the manifold grid, the compare view and the inspection panel."""
