"""Channel adapters: they parse and authenticate, translate to and from the neutral types, send."""
