"""Shipped inside the wheel as benchloop.task_data (see pyproject package-dir)."""
