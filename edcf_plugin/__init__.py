"""EDCF: Encoder-Decoder Correlation Filter visual object tracker (IJCAI 2018) as a toolkit plugin.

Entry points: :func:`edcf_plugin.tracker.build_tracker`, the ``edcf`` command (``edcf_plugin.cli``), the
TraX server (``python -m edcf_plugin.trax``) and the pysot runner (``python -m edcf_plugin.pysot``).
"""
__version__ = "0.1.0"
