"""``python -m hexapod``: the same as the ``hexapod`` console script."""

from hexapod_cli.main import main

if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    main()
