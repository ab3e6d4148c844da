"""The web pages served by the API process: the chat at ``/`` (and, later, ``/admin``).

They are one more face of the API adapter over the same ``Core``: the page's own JSON
endpoints under ``/web/api/`` sign in with the API's tokens kept in HttpOnly cookies
(``session``), refuse cross-site writes (``csrf``), and call the same use cases as the
messengers and ``/ask``. ``static`` serves the HTML/JS/CSS with a strict CSP; ``proxies``
believes X-Forwarded-* headers only from TRUSTED_PROXIES. ``routes`` registers it all."""
