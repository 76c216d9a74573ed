"""For test suites: the `MockAI` handle, the pytest plugin, assertions on the journal, in-process
transports."""
