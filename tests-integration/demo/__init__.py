"""Walkthroughs printed by `make demo`."""
