"""The toolkits EDCF plugs into: the TraX server (VOT), the VOT workspace builder, the pysot interface and runner, got10k."""
