"""The test tree mirrors src/reconciler (core, present, shell, cli, emulator); shared helpers live in
tests/support and are imported as `tests.support.*`."""
