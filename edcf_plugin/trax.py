"""``python -m edcf_plugin.trax``: the TraX server (see :mod:`edcf_plugin.toolkits.trax_server`).

This module only starts the server. ``import trax`` elsewhere in the package still means vot-trax's top-level
``trax`` module, because imports are absolute; run this file with ``-m``, not as a script.
"""
import sys

from .toolkits.trax_server import main

if __name__ == "__main__":
    sys.exit(main())
