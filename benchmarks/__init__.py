"""Benchmarks of sop-connector, each figure next to a baseline measured in the same run.

Run everything with ``benchmarks/run`` (or ``.venv/bin/python -m benchmarks``); see
``benchmarks/run_all.py`` for the options.
"""
