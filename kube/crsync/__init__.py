"""REC and REDB custom resources kept in step with the stored clusters and databases, both ways.

plan.py decides (pure), resources.py reads and builds custom resources (pure), sync.py acts through
the services (the only writers) and the API server, watch.py follows a target's API server.
"""
