package hotrestart

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
)

// Version is the protocol version: a parent and a child of different
// versions refuse each other, as Envoy's --hot-restart-version tells.
const Version = "sluice.hotrestart.v1"

// maxFrame bounds one message (the counters of thousands of clusters fit).
const maxFrame = 64 << 20

// maxFiles bounds the sockets one message carries.
const maxFiles = 250

// SocketName returns the unix socket name of one epoch under path: a name
// starting with "@" is in Linux's abstract namespace (nothing to clean up).
func SocketName(path string, baseID, epoch int) string {
	return path + "_" + strconv.Itoa(baseID) + "_" + strconv.Itoa(epoch)
}

// message is every request and reply; unused fields are empty.
type message struct {
	Op        string            `json:"op"`
	Version   string            `json:"version,omitempty"`
	Addresses []string          `json:"addresses,omitempty"` // listeners: asked, or sent in file order
	Counters  map[string]uint64 `json:"counters,omitempty"`
	Started   int64             `json:"started,omitempty"` // hello: Unix ms the first epoch started
	Error     string            `json:"error,omitempty"`
}

// send writes m with files attached to its first byte.
func send(c *net.UnixConn, m *message, files []*os.File) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	buf := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(body)), uint32(len(body)))
	buf = append(buf, body...)
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = syscall.UnixRights(fds...)
	}
	n, _, err := c.WriteMsgUnix(buf, oob, nil)
	if err == nil && n < len(buf) {
		_, err = c.Write(buf[n:])
	}
	return err
}

// recv reads one message and the files that came with it.
func recv(c *net.UnixConn) (*message, []*os.File, error) {
	var hdr [4]byte
	oob := make([]byte, syscall.CmsgSpace(maxFiles*4))
	n, oobn, _, _, err := c.ReadMsgUnix(hdr[:], oob)
	if err != nil {
		return nil, nil, err
	}
	files, ferr := parseFiles(oob[:oobn])
	if n < 4 {
		if _, err := io.ReadFull(c, hdr[n:]); err != nil {
			closeAll(files)
			return nil, nil, err
		}
	}
	if ferr != nil {
		closeAll(files)
		return nil, nil, ferr
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > maxFrame {
		closeAll(files)
		return nil, nil, fmt.Errorf("hot restart: message of %d bytes exceeds %d", size, maxFrame)
	}
	// Read as it comes rather than allocating the announced size up front.
	body, err := io.ReadAll(io.LimitReader(c, int64(size)))
	if err == nil && len(body) < int(size) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		closeAll(files)
		return nil, nil, err
	}
	m := new(message)
	if err := json.Unmarshal(body, m); err != nil {
		closeAll(files)
		return nil, nil, fmt.Errorf("hot restart: bad message: %w", err)
	}
	if m.Error != "" {
		closeAll(files)
		return nil, nil, errors.New("hot restart: peer: " + m.Error)
	}
	return m, files, nil
}

func parseFiles(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			syscall.CloseOnExec(fd)
			files = append(files, os.NewFile(uintptr(fd), "hot-restart-socket"))
		}
	}
	return files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
