"""Checkers: pure functions (task, reply) -> verdict, one module per suite."""
