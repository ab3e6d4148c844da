"""SQL implementations of the HTTP API's ports (``core.ports_api``).

Deliberately imports nothing: ``storage.repositories.accounts`` imports ``security`` from
here, and an eager package import would make that a cycle."""
