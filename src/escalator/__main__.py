"""`python -m escalator`: the same as the `escalator` command."""

from escalator.cli import main

if __name__ == "__main__":
    main()
