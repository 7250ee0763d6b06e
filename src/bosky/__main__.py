"""Entry point of the .pyz and of `python -m bosky`."""

import sys

from bosky import cli

if __name__ == "__main__":
    sys.exit(cli.main())
