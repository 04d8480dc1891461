"""What the tests and the benchmarks share, outside the installed package:
``streamlit run`` on a free port (:mod:`~devtools.server`, also the replicas
supervisor's in deploy/replicas.py), Debian's Chromium driven by Playwright
(:mod:`~devtools.browser`), models of any shape with random weights
(:mod:`~devtools.weights`) and the package built and installed as a user
gets it (:mod:`~devtools.installed`)."""
