"""``perfxl serve``: the bureau's web application and a private upload page for every unit.

One ASGI process (Starlette, server-rendered Jinja2, a few lines of plain JavaScript) over the
same engine and the same store as the command line. Modules, one job each:

- ``settings``  what an installation is configured with (data dir, store, secrets, limits)
- ``db``        the web app's own tables: yearly tasks, roster units with their link tokens, uploads
- ``files``     files kept under the data dir by content hash (no name a user typed reaches a path)
- ``jobs``      checks and other heavy work in separate processes, off the request thread
- ``intake``    what happens to an uploaded return: store the file, check it, record the outcome
- ``auth``      sign-in, sessions, CSRF, the API token and unit link tokens (constant-time compares)
- ``views``     rendering: every page as HTML or, with ``.json``, as JSON
- ``pages``     the bureau's pages; ``unit`` the unit's private page; ``api_routes`` the JSON API
- ``app``       the application assembled, and ``serve`` to run it with uvicorn

The web stack is the optional extra ``perfxl[web]``; nothing below ``perfxl.api`` imports it.
"""
