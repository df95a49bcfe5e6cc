"""raw: native tool calling; the server's own chat template decides the format."""
from benchloop.harnesses.base import Harness


class RawHarness(Harness):
    name = "raw"
