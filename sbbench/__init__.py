"""sbbench: a benchmark suite for symmetry breaking in molecular machine learning."""

__version__ = "0.1.0"
