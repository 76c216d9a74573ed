"""Scripted replies: the scenario file format, matching, reply templates, the rule engine and reloading."""
