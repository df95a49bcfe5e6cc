"""BenchLoop: which model + harness + hardware actually works for me, with receipts.

Kept import-free on purpose: ``benchloop --version`` and the pytest plugin import this
package on every run, so nothing heavy may load here.
"""

__version__ = "0.1.0"
