"""The platform-free heart of Switchboard: accounts, credits, context and the use cases.

Nothing here imports a messenger SDK, SQL or Redis; the use cases talk to the outside
world only through the protocols in ``core.ports``.
"""
