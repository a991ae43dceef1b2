"""Serving: registered LAMs into agent loops, and the CLI commands around them."""
