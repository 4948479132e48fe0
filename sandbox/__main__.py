"""`python -m sandbox [options]`: the same options as `herald sandbox [options]`."""

import sys

from sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())
