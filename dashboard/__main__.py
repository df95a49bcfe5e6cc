"""``python -m benchloop.dashboard``: see ``serve.py``."""
from benchloop.dashboard.serve import main

if __name__ == "__main__":
    raise SystemExit(main())
