"""The cluster's layout in Redis: key and channel names, session entries, and the atomic scripts.

    chat:node:{node}        string with a TTL: the node is alive while it exists (heartbeat refreshes it)
    chat:nodes              set: every node that joined and has not left or been reaped
    chat:user:{uid}         hash: field "{node}:{device}" -> entry {"n": node, "d": device, "o": org}
    chat:org:{org}:online   set: users of the organization with at least one entry
    chat:sessions:{node}    set: users with an entry on that node (what to clean when it leaves or dies)
    chat:reap:{node}        string, NX with a TTL: the one peer cleaning up a dead node
    chat:deliver:{node}     channel: deliveries and device closes for that node
    chat:presence           channel: presence changes, seen by every node

An entry counts only while its node's liveness key exists, so a node killed without warning stops
counting when its key expires, before anyone cleans its entries up.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

PRESENCE_CHANNEL = "chat:presence"
NODES_KEY = "chat:nodes"


def node_key(node_id: str) -> str:
    return f"chat:node:{node_id}"


def user_key(user_id: str) -> str:
    return f"chat:user:{user_id}"


def org_key(organization_id: str) -> str:
    return f"chat:org:{organization_id}:online"


def sessions_key(node_id: str) -> str:
    return f"chat:sessions:{node_id}"


def reap_key(node_id: str) -> str:
    return f"chat:reap:{node_id}"


def deliver_channel(node_id: str) -> str:
    return f"chat:deliver:{node_id}"


def session_field(node_id: str, device_id: str) -> str:
    return f"{node_id}:{device_id}"


@dataclass(frozen=True)
class Entry:
    """One live session as the cluster sees it: a device of a user on a node."""

    node_id: str
    device_id: str
    organization_id: str

    def encode(self) -> str:
        return orjson.dumps({"n": self.node_id, "d": self.device_id, "o": self.organization_id}).decode()

    @classmethod
    def decode(cls, raw: str | bytes) -> Entry:
        value = orjson.loads(raw)
        return cls(str(value["n"]), str(value["d"]), str(value["o"]))


# KEYS: user hash, org set, node's sessions set. ARGV: field, entry, user id.
# Returns every entry of the user after the bind (the caller filters them by liveness).
BIND_SCRIPT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3])
return redis.call('HVALS', KEYS[1])
"""

# KEYS: user hash, org set, node's sessions set. ARGV: field, user id, node id.
# Drops one entry; the user leaves the org index with its last entry and the node's index with its
# last entry on that node. Returns the user's remaining entries.
UNBIND_SCRIPT = """
redis.call('HDEL', KEYS[1], ARGV[1])
local rest = redis.call('HVALS', KEYS[1])
if #rest == 0 then
  redis.call('SREM', KEYS[2], ARGV[2])
end
local on_node = false
for _, raw in ipairs(rest) do
  if cjson.decode(raw)['n'] == ARGV[3] then on_node = true end
end
if not on_node then
  redis.call('SREM', KEYS[3], ARGV[2])
end
return rest
"""

# KEYS: user hash, org set, dead node's sessions set, dead node's liveness key. ARGV: node id, user id.
# Drops every entry of the node for that user, unless the node is alive again (then returns nil).
# Returns the user's remaining entries.
REAP_SCRIPT = """
if redis.call('EXISTS', KEYS[4]) == 1 then
  return false
end
local all = redis.call('HGETALL', KEYS[1])
local rest = {}
for i = 1, #all, 2 do
  if cjson.decode(all[i + 1])['n'] == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
  else
    table.insert(rest, all[i + 1])
  end
end
if #rest == 0 then
  redis.call('SREM', KEYS[2], ARGV[2])
end
redis.call('SREM', KEYS[3], ARGV[2])
return rest
"""
