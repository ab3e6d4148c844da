"""The API's handlers, one module per feature; each exposes ``routes()``, the endpoint
declarations that ``bots.api.app`` registers explicitly."""
