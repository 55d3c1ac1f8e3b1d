"""Files on disk: sequence folders, pysot-toolkit datasets and result files, metrics, generated datasets."""
