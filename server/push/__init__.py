"""Web Push: the queue of stored push events, the worker that delivers them, VAPID keys."""
