"""Training entry point (``python -m train``) and recipes (``train/configs``); code in ``edcf_plugin.training``."""
