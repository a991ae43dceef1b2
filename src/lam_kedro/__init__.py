"""lam-kedro: Large Action Models (arXiv 2412.10047) as Kedro pipelines."""

__version__ = "0.1.0"
