"""Shipped inside the wheel as benchloop.suites (see pyproject package-dir)."""
