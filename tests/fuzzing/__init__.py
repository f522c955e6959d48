"""The packet fuzzer shared by tests/e2e/test_fuzz.py and scripts/fuzz.py.

- `mutate`: a seeded mutator that turns a valid payload into a hostile one (fields dropped,
  duplicated, retyped, ids flipped to other users' objects, huge and odd strings, deep nesting,
  numbers at the edges of 32/53/64 bits).
- `world`: the users and objects the fuzzer lives among, and a table of valid seed payloads per
  route that use the ids of those objects, so that mutated packets reach deep into the handlers.
- `drive`: sends a stream of mutated packets on a logged-in socket, an unauthenticated socket and
  the HTTP sidecar, checks every answer, and counts what came back.

Only the client side of the protocol is used here (real sockets, real HTTP), so the same code
fuzzes an in-process server (the test) or a `run.py` process (the script).
"""
