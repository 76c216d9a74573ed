"""One module per OpenAI endpoint family: its parameters, its checks, and how it renders a Reply."""
