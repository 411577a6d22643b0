package redis

// The command table: arity, key positions and flags as Redis 7.4 reports
// them in COMMAND INFO, for the commands a proxy must route or refuse.
// Containers (CLIENT, OBJECT, XINFO...) list the key position of their
// keyed subcommands.

const (
	w   = FlagWrite
	ro  = FlagReadOnly
	blk = FlagBlocking
	ps  = FlagPubSub
	adm = FlagAdmin
	mk  = FlagMultiKey
	tx  = FlagTransaction
	cn  = FlagConnection
	scr = FlagScripting
	sub = FlagContainer
)

// k is a command with a key range; nk a command with numkeys; none a keyless one.
func k(name string, arity, first, last, step int, f Flag) CommandInfo {
	return CommandInfo{Name: name, Arity: arity, FirstKey: first, LastKey: last, Step: step, Flags: f}
}

func nk(name string, arity, first, numkeys int, f Flag) CommandInfo {
	return CommandInfo{Name: name, Arity: arity, FirstKey: first, LastKey: first, Step: 1,
		Flags: f | mk, Keys: KeysNumkeys, Numkeys: numkeys}
}

func none(name string, arity int, f Flag) CommandInfo {
	return CommandInfo{Name: name, Arity: arity, Flags: f}
}

var commandTable = []CommandInfo{
	// Strings.
	k("GET", 2, 1, 1, 1, ro), k("SET", -3, 1, 1, 1, w), k("SETNX", 3, 1, 1, 1, w),
	k("SETEX", 4, 1, 1, 1, w), k("PSETEX", 4, 1, 1, 1, w), k("GETSET", 3, 1, 1, 1, w),
	k("GETDEL", 2, 1, 1, 1, w), k("GETEX", -2, 1, 1, 1, w), k("MGET", -2, 1, -1, 1, ro|mk),
	k("MSET", -3, 1, -1, 2, w|mk), k("MSETNX", -3, 1, -1, 2, w|mk), k("APPEND", 3, 1, 1, 1, w),
	k("STRLEN", 2, 1, 1, 1, ro), k("INCR", 2, 1, 1, 1, w), k("DECR", 2, 1, 1, 1, w),
	k("INCRBY", 3, 1, 1, 1, w), k("DECRBY", 3, 1, 1, 1, w), k("INCRBYFLOAT", 3, 1, 1, 1, w),
	k("GETRANGE", 4, 1, 1, 1, ro), k("SETRANGE", 4, 1, 1, 1, w), k("SUBSTR", 4, 1, 1, 1, ro),
	k("LCS", -3, 1, 2, 1, ro|mk),
	// Generic keys.
	k("DEL", -2, 1, -1, 1, w|mk), k("UNLINK", -2, 1, -1, 1, w|mk), k("EXISTS", -2, 1, -1, 1, ro|mk),
	k("TOUCH", -2, 1, -1, 1, ro|mk), k("EXPIRE", -3, 1, 1, 1, w), k("PEXPIRE", -3, 1, 1, 1, w),
	k("EXPIREAT", -3, 1, 1, 1, w), k("PEXPIREAT", -3, 1, 1, 1, w), k("EXPIRETIME", 2, 1, 1, 1, ro),
	k("PEXPIRETIME", 2, 1, 1, 1, ro), k("TTL", 2, 1, 1, 1, ro), k("PTTL", 2, 1, 1, 1, ro),
	k("PERSIST", 2, 1, 1, 1, w), k("TYPE", 2, 1, 1, 1, ro), k("RENAME", 3, 1, 2, 1, w|mk),
	k("RENAMENX", 3, 1, 2, 1, w|mk), k("COPY", -3, 1, 2, 1, w|mk), k("DUMP", 2, 1, 1, 1, ro),
	k("RESTORE", -4, 1, 1, 1, w), k("OBJECT", -2, 2, 2, 1, ro|sub), k("SORT", -2, 1, 1, 1, w),
	k("SORT_RO", -2, 1, 1, 1, ro), k("MOVE", 3, 1, 1, 1, w), none("RANDOMKEY", 1, ro),
	none("KEYS", 2, ro), none("SCAN", -2, ro), k("MIGRATE", -6, 3, 3, 1, w|adm),
	none("WAIT", 3, cn), none("WAITAOF", 4, cn),
	// Hashes.
	k("HGET", 3, 1, 1, 1, ro), k("HSET", -4, 1, 1, 1, w), k("HSETNX", 4, 1, 1, 1, w),
	k("HMSET", -4, 1, 1, 1, w), k("HMGET", -3, 1, 1, 1, ro), k("HDEL", -3, 1, 1, 1, w),
	k("HLEN", 2, 1, 1, 1, ro), k("HEXISTS", 3, 1, 1, 1, ro), k("HGETALL", 2, 1, 1, 1, ro),
	k("HKEYS", 2, 1, 1, 1, ro), k("HVALS", 2, 1, 1, 1, ro), k("HINCRBY", 4, 1, 1, 1, w),
	k("HINCRBYFLOAT", 4, 1, 1, 1, w), k("HSTRLEN", 3, 1, 1, 1, ro), k("HSCAN", -3, 1, 1, 1, ro),
	k("HRANDFIELD", -2, 1, 1, 1, ro), k("HEXPIRE", -6, 1, 1, 1, w), k("HPEXPIRE", -6, 1, 1, 1, w),
	k("HEXPIREAT", -6, 1, 1, 1, w), k("HPEXPIREAT", -6, 1, 1, 1, w), k("HTTL", -5, 1, 1, 1, ro),
	k("HPTTL", -5, 1, 1, 1, ro), k("HEXPIRETIME", -5, 1, 1, 1, ro), k("HPEXPIRETIME", -5, 1, 1, 1, ro),
	k("HPERSIST", -5, 1, 1, 1, w),
	// Lists.
	k("LPUSH", -3, 1, 1, 1, w), k("RPUSH", -3, 1, 1, 1, w), k("LPUSHX", -3, 1, 1, 1, w),
	k("RPUSHX", -3, 1, 1, 1, w), k("LPOP", -2, 1, 1, 1, w), k("RPOP", -2, 1, 1, 1, w),
	k("LLEN", 2, 1, 1, 1, ro), k("LINDEX", 3, 1, 1, 1, ro), k("LSET", 4, 1, 1, 1, w),
	k("LRANGE", 4, 1, 1, 1, ro), k("LTRIM", 4, 1, 1, 1, w), k("LREM", 4, 1, 1, 1, w),
	k("LINSERT", 5, 1, 1, 1, w), k("LPOS", -3, 1, 1, 1, ro), k("RPOPLPUSH", 3, 1, 2, 1, w|mk),
	k("LMOVE", 5, 1, 2, 1, w|mk), k("BLPOP", -3, 1, -2, 1, w|blk|mk), k("BRPOP", -3, 1, -2, 1, w|blk|mk),
	k("BRPOPLPUSH", 4, 1, 2, 1, w|blk|mk), k("BLMOVE", 6, 1, 2, 1, w|blk|mk),
	nk("LMPOP", -4, 0, 1, w), nk("BLMPOP", -5, 0, 2, w|blk),
	// Sets.
	k("SADD", -3, 1, 1, 1, w), k("SREM", -3, 1, 1, 1, w), k("SCARD", 2, 1, 1, 1, ro),
	k("SISMEMBER", 3, 1, 1, 1, ro), k("SMISMEMBER", -3, 1, 1, 1, ro), k("SMEMBERS", 2, 1, 1, 1, ro),
	k("SRANDMEMBER", -2, 1, 1, 1, ro), k("SPOP", -2, 1, 1, 1, w), k("SMOVE", 4, 1, 2, 1, w|mk),
	k("SINTER", -2, 1, -1, 1, ro|mk), k("SINTERSTORE", -3, 1, -1, 1, w|mk), k("SUNION", -2, 1, -1, 1, ro|mk),
	k("SUNIONSTORE", -3, 1, -1, 1, w|mk), k("SDIFF", -2, 1, -1, 1, ro|mk), k("SDIFFSTORE", -3, 1, -1, 1, w|mk),
	nk("SINTERCARD", -3, 0, 1, ro), k("SSCAN", -3, 1, 1, 1, ro),
	// Sorted sets.
	k("ZADD", -4, 1, 1, 1, w), k("ZINCRBY", 4, 1, 1, 1, w), k("ZREM", -3, 1, 1, 1, w),
	k("ZCARD", 2, 1, 1, 1, ro), k("ZSCORE", 3, 1, 1, 1, ro), k("ZMSCORE", -3, 1, 1, 1, ro),
	k("ZRANK", -3, 1, 1, 1, ro), k("ZREVRANK", -3, 1, 1, 1, ro), k("ZRANGE", -4, 1, 1, 1, ro),
	k("ZRANGESTORE", -5, 1, 2, 1, w|mk), k("ZREVRANGE", -4, 1, 1, 1, ro), k("ZRANGEBYSCORE", -4, 1, 1, 1, ro),
	k("ZREVRANGEBYSCORE", -4, 1, 1, 1, ro), k("ZRANGEBYLEX", -4, 1, 1, 1, ro), k("ZREVRANGEBYLEX", -4, 1, 1, 1, ro),
	k("ZCOUNT", 4, 1, 1, 1, ro), k("ZLEXCOUNT", 4, 1, 1, 1, ro), k("ZREMRANGEBYRANK", 4, 1, 1, 1, w),
	k("ZREMRANGEBYSCORE", 4, 1, 1, 1, w), k("ZREMRANGEBYLEX", 4, 1, 1, 1, w), k("ZPOPMIN", -2, 1, 1, 1, w),
	k("ZPOPMAX", -2, 1, 1, 1, w), k("BZPOPMIN", -3, 1, -2, 1, w|blk|mk), k("BZPOPMAX", -3, 1, -2, 1, w|blk|mk),
	k("ZRANDMEMBER", -2, 1, 1, 1, ro), k("ZSCAN", -3, 1, 1, 1, ro),
	nk("ZUNIONSTORE", -4, 1, 2, w), nk("ZINTERSTORE", -4, 1, 2, w), nk("ZDIFFSTORE", -4, 1, 2, w),
	nk("ZUNION", -3, 0, 1, ro), nk("ZINTER", -3, 0, 1, ro), nk("ZDIFF", -3, 0, 1, ro),
	nk("ZINTERCARD", -3, 0, 1, ro), nk("ZMPOP", -4, 0, 1, w), nk("BZMPOP", -5, 0, 2, w|blk),
	// Streams.
	k("XADD", -5, 1, 1, 1, w), k("XLEN", 2, 1, 1, 1, ro), k("XRANGE", -4, 1, 1, 1, ro),
	k("XREVRANGE", -4, 1, 1, 1, ro), k("XDEL", -3, 1, 1, 1, w), k("XTRIM", -4, 1, 1, 1, w),
	{Name: "XREAD", Arity: -4, Flags: ro | blk | mk, Keys: KeysStreams},
	{Name: "XREADGROUP", Arity: -7, Flags: w | blk | mk, Keys: KeysStreams},
	k("XGROUP", -2, 2, 2, 1, w|sub), k("XACK", -4, 1, 1, 1, w), k("XPENDING", -3, 1, 1, 1, ro),
	k("XCLAIM", -6, 1, 1, 1, w), k("XAUTOCLAIM", -6, 1, 1, 1, w), k("XINFO", -2, 2, 2, 1, ro|sub),
	k("XSETID", -3, 1, 1, 1, w),
	// Geo.
	k("GEOADD", -5, 1, 1, 1, w), k("GEODIST", -4, 1, 1, 1, ro), k("GEOHASH", -2, 1, 1, 1, ro),
	k("GEOPOS", -2, 1, 1, 1, ro), k("GEORADIUS", -6, 1, 1, 1, w), k("GEORADIUS_RO", -6, 1, 1, 1, ro),
	k("GEORADIUSBYMEMBER", -5, 1, 1, 1, w), k("GEORADIUSBYMEMBER_RO", -5, 1, 1, 1, ro),
	k("GEOSEARCH", -7, 1, 1, 1, ro), k("GEOSEARCHSTORE", -8, 1, 2, 1, w|mk),
	// HyperLogLog.
	k("PFADD", -2, 1, 1, 1, w), k("PFCOUNT", -2, 1, -1, 1, ro|mk), k("PFMERGE", -2, 1, -1, 1, w|mk),
	k("PFDEBUG", 3, 2, 2, 1, w|adm), none("PFSELFTEST", 1, adm),
	// Bitmaps.
	k("SETBIT", 4, 1, 1, 1, w), k("GETBIT", 3, 1, 1, 1, ro), k("BITCOUNT", -2, 1, 1, 1, ro),
	k("BITPOS", -3, 1, 1, 1, ro), k("BITOP", -4, 2, -1, 1, w|mk), k("BITFIELD", -2, 1, 1, 1, w),
	k("BITFIELD_RO", -2, 1, 1, 1, ro),
	// Scripting and functions.
	nk("EVAL", -3, 0, 2, w|scr), nk("EVALSHA", -3, 0, 2, w|scr), nk("EVAL_RO", -3, 0, 2, ro|scr),
	nk("EVALSHA_RO", -3, 0, 2, ro|scr), nk("FCALL", -3, 0, 2, w|scr), nk("FCALL_RO", -3, 0, 2, ro|scr),
	none("SCRIPT", -2, scr|sub), none("FUNCTION", -2, scr|sub|adm),
	// Pub/Sub (shard channels count as keys, as in Redis Cluster).
	none("SUBSCRIBE", -2, ps), none("UNSUBSCRIBE", -1, ps), none("PSUBSCRIBE", -2, ps),
	none("PUNSUBSCRIBE", -1, ps), none("PUBLISH", 3, ps), none("PUBSUB", -2, ps|sub),
	k("SSUBSCRIBE", -2, 1, -1, 1, ps), k("SUNSUBSCRIBE", -1, 1, -1, 1, ps), k("SPUBLISH", 3, 1, 1, 1, ps),
	// Transactions.
	none("MULTI", 1, tx), none("EXEC", 1, tx), none("DISCARD", 1, tx),
	k("WATCH", -2, 1, -1, 1, tx|mk), none("UNWATCH", 1, tx),
	// Connection.
	none("PING", -1, cn), none("ECHO", 2, cn), none("AUTH", -2, cn), none("HELLO", -1, cn),
	none("SELECT", 2, cn), none("QUIT", -1, cn), none("RESET", 1, cn), none("CLIENT", -2, cn|sub),
	none("READONLY", 1, cn), none("READWRITE", 1, cn),
	// Server and administration: a proxy refuses these.
	none("FLUSHALL", -1, w|adm), none("FLUSHDB", -1, w|adm), none("CONFIG", -2, adm|sub),
	none("INFO", -1, adm), none("DBSIZE", 1, adm), none("SAVE", 1, adm), none("BGSAVE", -1, adm),
	none("BGREWRITEAOF", 1, adm), none("LASTSAVE", 1, adm), none("SHUTDOWN", -1, adm),
	none("DEBUG", -2, adm), none("MONITOR", 1, adm), none("SLAVEOF", 3, adm), none("REPLICAOF", 3, adm),
	none("SYNC", 1, adm), none("PSYNC", -3, adm), none("CLUSTER", -2, adm|sub), none("SLOWLOG", -2, adm|sub),
	none("LATENCY", -2, adm|sub), k("MEMORY", -2, 2, 2, 1, ro|adm|sub), none("MODULE", -2, adm|sub),
	none("ACL", -2, adm|sub), none("COMMAND", -1, adm|sub), none("TIME", 1, adm), none("LOLWUT", -1, ro),
	none("SWAPDB", 3, w|adm), none("FAILOVER", -1, adm), none("ROLE", 1, adm),
}

// indexSize is the size of commandIndex, a power of two at least twice the
// table's length so that probes stay short.
const indexSize = 1024

// commandIndex is an open-addressing hash table (FNV-1a, linear probing) of
// the upper-case names; Lookup reads it.
var commandIndex = func() (idx [indexSize]*CommandInfo) {
	if 2*len(commandTable) > indexSize {
		panic("redis: command index too small")
	}
	for i := range commandTable {
		ci := &commandTable[i]
		h := fnv1a(ci.Name)
		if ci.Name == "" || len(ci.Name) > maxNameLen || probe(&idx, []byte(ci.Name), h) != nil {
			panic("redis: bad or duplicate command table entry " + ci.Name)
		}
		for k := h & (indexSize - 1); ; k = (k + 1) & (indexSize - 1) {
			if idx[k] == nil {
				idx[k] = ci
				break
			}
		}
	}
	return idx
}()
