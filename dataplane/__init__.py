"""The Redis data plane as a library both targets use: what Redis Cluster and the sentinels say,
parsed into values, and the pure plans (slot layout, moves) that act on it.

Callers own the connections (the local target dials 127.0.0.1 ports, the Kubernetes target resolves
pod names through its address map); nothing here imports Django or the layers above `core`.
"""
