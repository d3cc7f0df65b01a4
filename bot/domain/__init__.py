"""The domain: dossiers, statistics, privacy, reflections' rules, ingest.

Nothing here imports the runtime (channels, app, server, CLI, dispatcher) or handlers;
``tests/test_layers.py`` holds the rule.
"""
