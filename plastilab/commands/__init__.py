"""The command line's commands, one module per family; ``plastilab.cli`` puts them together."""
