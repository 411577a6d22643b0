package redis

import "bytes"

// SlotCount is the number of Redis Cluster hash slots.
const SlotCount = 16384

// crcTable is CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0, no
// reflection), the checksum Redis Cluster hashes keys with.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC16 returns the CRC16/XMODEM checksum of b.
func CRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^c]
	}
	return crc
}

// HashTag returns the part of key that is hashed: the bytes between the
// first '{' and the first '}' after it, if that part is non-empty; else the
// whole key. These are Redis Cluster's rules, which Envoy's
// enable_hashtagging applies to every hash load balancer too.
func HashTag(key []byte) []byte {
	open := bytes.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := bytes.IndexByte(key[open+1:], '}')
	if end <= 0 { // no '}' or "{}"
		return key
	}
	return key[open+1 : open+1+end]
}

// HashSlot returns the Redis Cluster slot of key, in [0, SlotCount).
func HashSlot(key []byte) int {
	return int(CRC16(HashTag(key)) & (SlotCount - 1))
}
