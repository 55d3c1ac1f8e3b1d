"""``python -m train ...`` from the repository root: the same entry point as ``edcf train``.

The training code itself ships in the package (``edcf_plugin.training``) so an installed plugin can train;
this folder holds only the entry point and the recipes (``train/configs/<variant>.yaml``).
"""
import sys

from edcf_plugin.commands.train import main

if __name__ == "__main__":
    sys.exit(main())
