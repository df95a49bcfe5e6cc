"""Shipped inside the wheel as benchloop.tasks (see pyproject package-dir)."""
