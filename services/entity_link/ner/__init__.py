"""The statistical recogniser: finds PER/ORG/LOC/MISC names the knowledge base does not hold."""
