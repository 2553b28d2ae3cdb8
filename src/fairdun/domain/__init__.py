"""The pure domain: values that describe collection work. Standard library only; no I/O, no clock reads."""
