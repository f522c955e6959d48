"""The WebSocket server: sockets, their connections and limits, and the dispatch of each frame."""
