"""Delivery on this node: the hub, the registry of live sockets, the single-node bus and the offline sinks."""
