package redis

import (
	"errors"
	"strings"
)

// Flag describes a command's behaviour, after Redis COMMAND INFO flags and
// ACL categories, reduced to what a proxy routes on.
type Flag uint16

// Command flags.
const (
	// FlagWrite marks a command that may modify data.
	FlagWrite Flag = 1 << iota
	// FlagReadOnly marks a command that only reads data.
	FlagReadOnly
	// FlagBlocking marks a command that may block the connection (BLPOP...).
	FlagBlocking
	// FlagPubSub marks a publish/subscribe command.
	FlagPubSub
	// FlagAdmin marks a server or administration command a proxy refuses.
	FlagAdmin
	// FlagMultiKey marks a command that may take keys in several slots.
	FlagMultiKey
	// FlagTransaction marks MULTI, EXEC, DISCARD, WATCH and UNWATCH.
	FlagTransaction
	// FlagConnection marks a command about the connection itself (PING, AUTH...).
	FlagConnection
	// FlagScripting marks EVAL, FCALL and their relatives.
	FlagScripting
	// FlagContainer marks a command whose first argument is a subcommand
	// (CLIENT, CONFIG, OBJECT, XINFO...).
	FlagContainer
)

// Has reports whether all bits of g are set in f.
func (f Flag) Has(g Flag) bool { return f&g == g }

// KeySpec says how to find a command's keys beyond FirstKey/LastKey/Step.
type KeySpec uint8

// Key specifications.
const (
	// KeysRange: keys are FirstKey..LastKey by Step (LastKey < 0 counts from
	// the end: -1 is the last argument).
	KeysRange KeySpec = iota
	// KeysNumkeys: besides the range, Args[Numkeys] holds a count of keys that
	// follow it (EVAL script numkeys k1 k2, ZUNIONSTORE dst numkeys k1 k2).
	KeysNumkeys
	// KeysStreams: keys are the first half of the arguments after the STREAMS
	// token (XREAD, XREADGROUP).
	KeysStreams
)

// CommandInfo is one entry of the command table.
type CommandInfo struct {
	// Name is the upper-case command name.
	Name string
	// Arity is Redis' arity: n > 0 requires exactly n arguments (name
	// included), n < 0 requires at least -n.
	Arity int
	// FirstKey, LastKey and Step locate keys as in COMMAND INFO; FirstKey 0
	// means the command takes no keys in a fixed position.
	FirstKey, LastKey, Step int
	// Flags classify the command.
	Flags Flag
	// Keys says how keys are found; Numkeys is the index of the key count
	// for KeysNumkeys.
	Keys    KeySpec
	Numkeys int
}

// ArityOK reports whether nargs arguments (name included) satisfy Arity.
func (ci *CommandInfo) ArityOK(nargs int) bool {
	if ci.Arity >= 0 {
		return nargs == ci.Arity
	}
	return nargs >= -ci.Arity
}

// Errors from AppendKeyIndexes.
var (
	// ErrWrongArity is a command with a wrong number of arguments.
	ErrWrongArity = errors.New("redis: wrong number of arguments")
	// ErrBadNumkeys is a numkeys argument that is not an integer in range.
	ErrBadNumkeys = errors.New("redis: invalid numkeys argument")
)

// AppendKeyIndexes appends to dst the indexes in args of the command's keys,
// in order, without allocating when dst has room. args[0] is the name.
func (ci *CommandInfo) AppendKeyIndexes(dst []int, args [][]byte) ([]int, error) {
	if !ci.ArityOK(len(args)) {
		return dst, ErrWrongArity
	}
	if ci.FirstKey > 0 {
		last := ci.LastKey
		if last < 0 {
			last += len(args)
		}
		for i := ci.FirstKey; i <= last && i < len(args); i += ci.Step {
			dst = append(dst, i)
		}
	}
	switch ci.Keys {
	case KeysNumkeys:
		n, ok := parseInt(args[ci.Numkeys])
		if !ok || n < 0 || n > int64(len(args)-ci.Numkeys-1) {
			return dst, ErrBadNumkeys
		}
		for i := ci.Numkeys + 1; i <= ci.Numkeys+int(n); i++ {
			dst = append(dst, i)
		}
	case KeysStreams:
		for i := 1; i < len(args); i++ {
			if asciiEqualFold(args[i], "STREAMS") {
				rest := len(args) - i - 1
				if rest == 0 || rest%2 != 0 {
					return dst, ErrWrongArity
				}
				for k := i + 1; k <= i+rest/2; k++ {
					dst = append(dst, k)
				}
				return dst, nil
			}
		}
		return dst, ErrWrongArity
	}
	return dst, nil
}

// maxNameLen is the longest name in the command table.
const maxNameLen = 24

// Lookup returns the table entry for a command name in any case, or nil.
// It does not allocate: the name is upper-cased on the stack while it is
// hashed, then looked up in an open-addressing table.
func Lookup(name []byte) *CommandInfo {
	if len(name) == 0 || len(name) > maxNameLen {
		return nil
	}
	var up [maxNameLen]byte
	h := uint32(2166136261)
	for i, c := range name {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
		h = (h ^ uint32(c)) * 16777619
	}
	return probe(&commandIndex, up[:len(name)], h)
}

// probe finds the upper-case name key with FNV-1a hash h in idx.
func probe(idx *[indexSize]*CommandInfo, key []byte, h uint32) *CommandInfo {
	for i := h & (indexSize - 1); ; i = (i + 1) & (indexSize - 1) {
		ci := idx[i]
		if ci == nil || ci.Name == string(key) {
			return ci
		}
	}
}

// fnv1a is the 32-bit FNV-1a hash of s.
func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// Info returns the table entry of the command's name, or nil if unknown.
func (c Command) Info() *CommandInfo {
	if len(c.Args) == 0 {
		return nil
	}
	return Lookup(c.Args[0])
}

// Name returns the upper-case command name; it allocates only for names
// missing from the table.
func (c Command) Name() string {
	if ci := c.Info(); ci != nil {
		return ci.Name
	}
	if len(c.Args) == 0 {
		return ""
	}
	return strings.ToUpper(string(c.Args[0]))
}

// asciiEqualFold compares b with upper-case ASCII s, ignoring b's case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
