"""Use cases: what fairdun does, written against ports; no framework, no I/O of its own."""
