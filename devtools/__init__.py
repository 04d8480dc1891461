"""What the tests and the benchmarks share, outside the installed package: a
``streamlit run`` server on a free port (also the replicas supervisor's,
deploy/replicas.py)."""
