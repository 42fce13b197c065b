"""entity_link: organisations, people, places, products and models, linked to Wikidata QIDs."""
