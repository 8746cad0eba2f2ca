"""Tests of the virtcore command line (virtcore.cli)."""
