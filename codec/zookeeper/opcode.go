package zookeeper

import "strconv"

// Opcode is a request type (ZooDefs.OpCode).
type Opcode int32

// The opcodes of ZooKeeper 3.8. OpConnect is not on the wire: the first
// frame of a session is its connect request.
const (
	OpConnect              Opcode = -100 // sluice's marker for the connect frame
	OpFourLetterWord       Opcode = -101 // sluice's marker for a four-letter word command
	OpNotification         Opcode = 0
	OpCreate               Opcode = 1
	OpDelete               Opcode = 2
	OpExists               Opcode = 3
	OpGetData              Opcode = 4
	OpSetData              Opcode = 5
	OpGetACL               Opcode = 6
	OpSetACL               Opcode = 7
	OpGetChildren          Opcode = 8
	OpSync                 Opcode = 9
	OpPing                 Opcode = 11
	OpGetChildren2         Opcode = 12
	OpCheck                Opcode = 13
	OpMulti                Opcode = 14
	OpCreate2              Opcode = 15
	OpReconfig             Opcode = 16
	OpCheckWatches         Opcode = 17
	OpRemoveWatches        Opcode = 18
	OpCreateContainer      Opcode = 19
	OpDeleteContainer      Opcode = 20
	OpCreateTTL            Opcode = 21
	OpMultiRead            Opcode = 22
	OpSetAuth              Opcode = 100
	OpSetWatches           Opcode = 101
	OpSASL                 Opcode = 102
	OpGetEphemerals        Opcode = 103
	OpGetAllChildrenNumber Opcode = 104
	OpSetWatches2          Opcode = 105
	OpAddWatch             Opcode = 106
	OpWhoAmI               Opcode = 107
	OpCreateSession        Opcode = -10
	OpClose                Opcode = -11
	OpError                Opcode = -1
)

// Reserved xids of the client (ClientCnxn).
const (
	XidWatchEvent int32 = -1
	XidPing       int32 = -2
	XidAuth       int32 = -4
	XidSetWatches int32 = -8
)

// Error codes a proxy writes (KeeperException.Code).
const (
	ErrOK     int32 = 0
	ErrNoNode int32 = -101
	ErrNoAuth int32 = -102
)

// opNames are Envoy's opnames (metadata "opname" and the stat stems).
var opNames = map[Opcode]string{
	OpConnect: "connect", OpCreate: "create", OpDelete: "delete", OpExists: "exists",
	OpGetData: "getdata", OpSetData: "setdata", OpGetACL: "getacl", OpSetACL: "setacl",
	OpGetChildren: "getchildren", OpSync: "sync", OpPing: "ping", OpGetChildren2: "getchildren2",
	OpCheck: "check", OpMulti: "multi", OpCreate2: "create2", OpReconfig: "reconfig",
	OpCheckWatches: "checkwatches", OpRemoveWatches: "removewatches",
	OpCreateContainer: "createcontainer", OpCreateTTL: "createttl", OpSetAuth: "auth",
	OpSetWatches: "setwatches", OpGetEphemerals: "getephemerals",
	OpGetAllChildrenNumber: "getallchildrennumber", OpSetWatches2: "setwatches2",
	OpAddWatch: "addwatch", OpClose: "close",
	// Not in Envoy's set: named for metadata and rbac only.
	OpMultiRead: "multiread", OpWhoAmI: "whoami", OpSASL: "sasl", OpDeleteContainer: "deletecontainer",
	OpFourLetterWord: "four_letter_word",
}

// Name returns Envoy's opname ("getdata"), or "unknown".
func (o Opcode) Name() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return "unknown"
}

// String returns the name and number.
func (o Opcode) String() string { return o.Name() + "(" + strconv.Itoa(int(o)) + ")" }

// Known reports whether the opcode is one Envoy's zookeeper_proxy counts.
func (o Opcode) Known() bool {
	switch o {
	case OpMultiRead, OpWhoAmI, OpSASL, OpDeleteContainer, OpFourLetterWord:
		return false
	}
	_, ok := opNames[o]
	return ok
}

// OpNames returns every opname the decoder reports, for config validation.
func OpNames() []string {
	out := make([]string, 0, len(opNames))
	for _, n := range opNames {
		out = append(out, n)
	}
	return out
}

// CreateMode names a create's flags as Envoy's metadata create_type does.
func CreateMode(flags int32) string {
	switch flags {
	case 0:
		return "persistent"
	case 1:
		return "ephemeral"
	case 2:
		return "persistent_sequential"
	case 3:
		return "ephemeral_sequential"
	case 4:
		return "container"
	case 5:
		return "persistent_with_ttl"
	case 6:
		return "persistent_sequential_with_ttl"
	}
	return "unknown"
}
