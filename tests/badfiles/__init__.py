"""Helpers for the bad-landing-file corpus (tests/test_bronze_bad_files.py)."""
