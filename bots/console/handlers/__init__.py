"""The console's handlers, one module per feature; ``bots.console.app`` registers them.

Each takes the deps, the person's translator and the text after the command."""
