"""Performance benchmarks: the project's pipeline against independent baselines.

Not part of the installed package: run from the repository root, `python -m benchmarks --help`.
"""
