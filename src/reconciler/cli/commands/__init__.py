"""One module per `xtap` command: each has `add_parser(subparsers)` and `run(args, env) -> int`."""
