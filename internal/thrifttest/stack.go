package thrifttest

import (
	"fmt"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
)

// Stack names a transport and protocol as thrift_proxy's config does
// (lower case): transports framed, unframed, header; protocols binary,
// lax_binary, compact.
type Stack struct {
	Transport string
	Protocol  string
}

// String is "transport/protocol".
func (s Stack) String() string { return s.Transport + "/" + s.Protocol }

// Stacks are every transport x protocol pair the library's clients and
// servers speak (the header transport carries binary or compact only).
var Stacks = []Stack{
	{"framed", "binary"}, {"framed", "compact"}, {"framed", "lax_binary"},
	{"unframed", "binary"}, {"unframed", "compact"}, {"unframed", "lax_binary"},
	{"header", "binary"}, {"header", "compact"},
}

// conf is the library configuration of a stack.
func (s Stack) conf() *thrift.TConfiguration {
	strict := s.Protocol != "lax_binary"
	c := &thrift.TConfiguration{
		ConnectTimeout: 5 * time.Second, SocketTimeout: 20 * time.Second,
		TBinaryStrictRead: &strict, TBinaryStrictWrite: &strict,
	}
	if s.Transport == "header" {
		id := thrift.THeaderProtocolBinary
		if s.Protocol == "compact" {
			id = thrift.THeaderProtocolCompact
		}
		c.THeaderProtocolID = &id
	}
	return c
}

// Factories returns the library's transport and protocol factories.
func (s Stack) Factories() (thrift.TTransportFactory, thrift.TProtocolFactory) {
	c := s.conf()
	var tf thrift.TTransportFactory
	switch s.Transport {
	case "framed":
		tf = thrift.NewTFramedTransportFactoryConf(thrift.NewTTransportFactory(), c)
	case "unframed":
		tf = thrift.NewTBufferedTransportFactory(8192)
	case "header":
		return thrift.NewTHeaderTransportFactoryConf(nil, c), thrift.NewTHeaderProtocolFactoryConf(c)
	default:
		panic(fmt.Sprintf("thrifttest: transport %q", s.Transport))
	}
	if s.Protocol == "compact" {
		return tf, thrift.NewTCompactProtocolFactoryConf(c)
	}
	return tf, thrift.NewTBinaryProtocolFactoryConf(c)
}
