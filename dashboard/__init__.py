"""Shipped inside the wheel as benchloop.dashboard (see pyproject package-dir)."""
