// Package hotrestart hands a running sluice's listening sockets, and its
// counters, to the sluice that replaces it, so that a binary upgrade neither
// refuses nor drops a connection.
//
// It follows Envoy's interface (--restart-epoch, --base-id, --socket-path,
// --hot-restart-version, --drain-time-s, --parent-shutdown-time-s) rather
// than haproxy's "-x <socket>": operators who know Envoy's hot restart and
// its hot-restarter wrapper find the same flags, and the socket of epoch N
// is found from the base id alone, with nothing to pass between the two
// processes. Unlike Envoy, which shares memory between epochs, the two
// processes only talk over a unix socket: the parent sends its sockets with
// SCM_RIGHTS and its counter values as numbers. Gauges and histograms start
// over in the child (they describe the new process).
//
// The exchange, all started by the child (epoch N+1) on the parent's
// (epoch N) socket:
//
//	hello          both sides check the protocol version
//	listeners      the parent sends a duplicate of each listening socket whose
//	               configured address the child's config also has
//	counters       the parent's counter values, added to the child's once its
//	               config is applied
//	shutdown_admin the parent closes its admin server so that the child binds it
//	drain          the parent stops accepting (the child already does, on the
//	               same sockets, so the kernel queue is never left without an
//	               acceptor), lets open connections finish, sends its final
//	               counters and exits
//
// The framing is hand-written (a 4-byte length and a JSON body on a unix
// stream socket) because file descriptors travel as ancillary data, which no
// RPC library in the module carries; it is a few dozen lines.
package hotrestart
