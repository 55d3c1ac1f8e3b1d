"""One module per ``edcf`` subcommand, each with ``add_arguments(parser)`` and ``run(args) -> int``."""
