"""Performance benchmarks: the project's pipeline against independent baselines."""
