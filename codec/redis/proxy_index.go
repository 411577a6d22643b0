package redis

import "unsafe"

// This file is an addition for filters/redis (not part of the codec's own
// files): a dense index of command table entries, so that a proxy can keep
// per-command state (stats handles) in a fixed array instead of a map.

// CommandCount is the number of entries in the command table; Index returns
// values in [0, CommandCount()).
func CommandCount() int { return len(commandTable) }

// Index returns the position of ci in the command table. ci must come from
// Lookup or Command.Info; any other pointer returns -1.
func (ci *CommandInfo) Index() int {
	if ci == nil || len(commandTable) == 0 {
		return -1
	}
	base := uintptr(unsafe.Pointer(&commandTable[0]))
	p := uintptr(unsafe.Pointer(ci))
	size := unsafe.Sizeof(commandTable[0])
	if p < base || p >= base+size*uintptr(len(commandTable)) || (p-base)%size != 0 {
		return -1
	}
	return int((p - base) / size)
}
