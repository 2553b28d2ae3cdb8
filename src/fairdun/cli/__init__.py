"""Command-line entrypoint (``fairdun``)."""
