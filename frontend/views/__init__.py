"""Dashboard pages, one module per area: clusters, databases, lifecycle actions, live state."""
