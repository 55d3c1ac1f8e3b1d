"""The ``edcf`` command. Each subcommand lives in its own module, which provides
``add_arguments(parser)`` and ``run(args) -> int``; this file only dispatches.

User errors (:class:`edcf_plugin.errors.EDCFError`) print one line ``edcf: error: ...`` and exit with 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand -> (module, one-line help)
SUBCOMMANDS = {
    "track": ("edcf_plugin.commands.track", "track a sequence folder, a frame folder or a video"),
    "demo": ("edcf_plugin.commands.demo", "track the bundled demo sequence and write an annotated video"),
    "eval": ("edcf_plugin.commands.evaluate", "evaluate result folders (OTB / VOT metrics, plots, tables)"),
    "train": ("edcf_plugin.commands.train", "train EDCF or an ablation variant"),
    "vot-workspace": ("edcf_plugin.commands.vot_workspace", "build an offline VOT toolkit workspace"),
    "bench": ("edcf_plugin.commands.bench", "speed and accuracy benchmark against OpenCV trackers"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser. Only the module of ``command`` is imported (start-up stays fast)."""
    parser = argparse.ArgumentParser(prog="edcf", description="EDCF visual object tracker (IJCAI 2018).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(_module=mod)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .errors import one_line_warnings
    from .process_setup import process_setup

    process_setup()                              # before any subcommand imports torch
    from .run import cli_main

    one_line_warnings("edcf")
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    args = build_parser(command).parse_args(argv)
    return cli_main("edcf", lambda: args._module.run(args))


if __name__ == "__main__":
    sys.exit(main())
