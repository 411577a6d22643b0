package hotrestart

import (
	"fmt"
	"net"
	"os"
	"time"
)

// Client is the new process's side, connected to its parent.
type Client struct {
	c *net.UnixConn
	// Started is when the first epoch started, as the parent said.
	Started time.Time
}

// Dial connects to the parent's socket name and checks its version.
func Dial(name string) (*Client, error) {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: name, Net: "unix"})
	if err != nil {
		return nil, err
	}
	cl := &Client{c: c}
	reply, _, err := cl.call(&message{Op: "hello", Version: Version})
	if err != nil {
		c.Close()
		return nil, err
	}
	cl.Started = time.UnixMilli(reply.Started)
	return cl, nil
}

// Close closes the connection.
func (cl *Client) Close() error { return cl.c.Close() }

func (cl *Client) call(m *message) (*message, []*os.File, error) {
	if err := send(cl.c, m, nil); err != nil {
		return nil, nil, err
	}
	return recv(cl.c)
}

// Listeners asks for the parent's listening sockets at addrs (configured
// addresses); it returns a listener per address the parent had.
func (cl *Client) Listeners(addrs []string) (map[string]net.Listener, error) {
	reply, files, err := cl.call(&message{Op: "listeners", Addresses: addrs})
	if err != nil {
		return nil, err
	}
	defer closeAll(files) // net.FileListener duplicates
	if len(files) != len(reply.Addresses) {
		return nil, fmt.Errorf("hot restart: %d sockets for %d addresses", len(files), len(reply.Addresses))
	}
	out := make(map[string]net.Listener, len(files))
	for i, f := range files {
		ln, err := net.FileListener(f)
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("hot restart: socket for %s: %w", reply.Addresses[i], err)
		}
		out[reply.Addresses[i]] = ln
	}
	return out, nil
}

// Counters returns the parent's counter values.
func (cl *Client) Counters() (map[string]uint64, error) {
	reply, _, err := cl.call(&message{Op: "counters"})
	if err != nil {
		return nil, err
	}
	return reply.Counters, nil
}

// ShutdownAdmin asks the parent to close its admin server.
func (cl *Client) ShutdownAdmin() error {
	_, _, err := cl.call(&message{Op: "shutdown_admin"})
	return err
}

// Drain asks the parent to stop accepting and drain; it returns the
// parent's final counters once the parent is done.
func (cl *Client) Drain() (map[string]uint64, error) {
	reply, _, err := cl.call(&message{Op: "drain"})
	if err != nil {
		return nil, err
	}
	return reply.Counters, nil
}
