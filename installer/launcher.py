"""Entry point of the frozen program (PyInstaller runs this file as __main__): the same as `reporter-app`."""

import sys

from reporter_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
