"""The models of OpenAI's API: the catalogue on a simulated date, and exact token counts."""
