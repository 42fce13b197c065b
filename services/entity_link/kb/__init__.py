"""The knowledge base: entities with labels, aliases, types and a popularity prior."""
