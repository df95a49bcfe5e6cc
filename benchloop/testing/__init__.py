"""Test doubles for BenchLoop: fake model endpoints that need no model, GPU or network."""
