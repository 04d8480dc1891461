"""Benchmarks: scripts that print figures (``python bench/NAME.py --help``);
docs/ keeps the figures and the commands that produced them."""
