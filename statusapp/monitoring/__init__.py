"""Monitors: what a check is (spec), how each kind runs (checks); no database here."""
