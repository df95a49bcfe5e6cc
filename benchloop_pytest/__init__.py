"""BenchLoop's pytest plugin (entry point ``benchloop`` -> ``benchloop_pytest.plugin``)."""
