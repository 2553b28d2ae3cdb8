"""Configuration: settings from the environment and rule packs and lexicons from files."""
