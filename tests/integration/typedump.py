"""Reading a whole keyspace back, every type, for the durability and
replication tests (persistutil.dump, replutil.dump): one key -> (value,
PEXPIRETIME) map where a string's value is its bytes and a typed value is
(type, content) in a canonical order (hash fields and set members sorted;
lists and zsets in their own order), so two servers' dumps compare with ==.
"""

READERS = {
    b"hash": lambda k: ("HGETALL", k),
    b"list": lambda k: ("LRANGE", k, 0, -1),
    b"set": lambda k: ("SMEMBERS", k),
    b"zset": lambda k: ("ZRANGE", k, 0, -1, "WITHSCORES"),
}


def canonical(typ, reply):
    if typ == b"hash":
        return ("hash", tuple(sorted(zip(reply[0::2], reply[1::2]))))
    if typ == b"set":
        return ("set", tuple(sorted(reply)))
    return (typ.decode(), tuple(reply))


def read_values(pipeline, c, keys, check=None):
    """{key: (value, pexpiretime)} for keys that exist; pipeline(c, cmds)
    sends commands, check(reply) may raise on an error reply."""
    types = pipeline(c, [("TYPE", k) for k in keys])
    cmds = []
    for k, t in zip(keys, types):
        if check:
            check(t)
        cmds.append(READERS[t](k) if t in READERS else ("GET", k))
        cmds.append(("PEXPIRETIME", k))
    r = pipeline(c, cmds)
    out = {}
    for i, (k, t) in enumerate(zip(keys, types)):
        v, exp = r[2 * i], r[2 * i + 1]
        if check:
            check(v)
            check(exp)
        if t == b"none" or v is None:
            continue
        out[k] = (canonical(t, v) if t in READERS else v, exp)
    return out
