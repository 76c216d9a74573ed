"""The HTTP side: the ASGI app, the request pipeline, the admin API, server state, and running under
uvicorn."""
