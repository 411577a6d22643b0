package thrift

import (
	"bytes"
	"context"
	"fmt"

	athrift "github.com/apache/thrift/lib/go/thrift"
)

// maxDepth bounds nesting while translating, as the library's Skip does.
const maxDepth = athrift.DEFAULT_RECURSION_DEPTH

// translate copies m's body from its protocol to pw, value by value. It is
// the only place a body is decoded: sluice has no IDL, so it walks the
// self-describing encoding with the library's reader and writer.
func translate(ctx context.Context, m *Message, pw athrift.TProtocol) error {
	mem := &athrift.TMemoryBuffer{Buffer: bytes.NewBuffer(m.Body)}
	pr, err := newProtocol(m.Protocol, mem, confAny)
	if err != nil {
		return err
	}
	if err := copyValue(ctx, pr, pw, athrift.STRUCT, maxDepth); err != nil {
		return fmt.Errorf("%w: translating body: %v", ErrMalformed, err)
	}
	return pw.WriteMessageEnd(ctx)
}

// copyValue reads one value of type t from in and writes it to out.
func copyValue(ctx context.Context, in, out athrift.TProtocol, t athrift.TType, depth int) error {
	if depth <= 0 {
		return fmt.Errorf("nesting deeper than %d", maxDepth)
	}
	switch t {
	case athrift.BOOL:
		v, err := in.ReadBool(ctx)
		if err != nil {
			return err
		}
		return out.WriteBool(ctx, v)
	case athrift.BYTE:
		v, err := in.ReadByte(ctx)
		if err != nil {
			return err
		}
		return out.WriteByte(ctx, v)
	case athrift.I16:
		v, err := in.ReadI16(ctx)
		if err != nil {
			return err
		}
		return out.WriteI16(ctx, v)
	case athrift.I32:
		v, err := in.ReadI32(ctx)
		if err != nil {
			return err
		}
		return out.WriteI32(ctx, v)
	case athrift.I64:
		v, err := in.ReadI64(ctx)
		if err != nil {
			return err
		}
		return out.WriteI64(ctx, v)
	case athrift.DOUBLE:
		v, err := in.ReadDouble(ctx)
		if err != nil {
			return err
		}
		return out.WriteDouble(ctx, v)
	case athrift.STRING:
		v, err := in.ReadBinary(ctx)
		if err != nil {
			return err
		}
		return out.WriteBinary(ctx, v)
	case athrift.UUID:
		v, err := in.ReadUUID(ctx)
		if err != nil {
			return err
		}
		return out.WriteUUID(ctx, v)
	case athrift.STRUCT:
		return copyStruct(ctx, in, out, depth)
	case athrift.MAP, athrift.SET, athrift.LIST:
		return copyContainer(ctx, in, out, t, depth)
	}
	return fmt.Errorf("unknown type %d", t)
}

func copyStruct(ctx context.Context, in, out athrift.TProtocol, depth int) error {
	name, err := in.ReadStructBegin(ctx)
	if err != nil {
		return err
	}
	if err := out.WriteStructBegin(ctx, name); err != nil {
		return err
	}
	for {
		fname, ft, id, err := in.ReadFieldBegin(ctx)
		if err != nil {
			return err
		}
		if ft == athrift.STOP {
			break
		}
		if err := out.WriteFieldBegin(ctx, fname, ft, id); err != nil {
			return err
		}
		if err := copyValue(ctx, in, out, ft, depth-1); err != nil {
			return err
		}
		if err := in.ReadFieldEnd(ctx); err != nil {
			return err
		}
		if err := out.WriteFieldEnd(ctx); err != nil {
			return err
		}
	}
	if err := in.ReadStructEnd(ctx); err != nil {
		return err
	}
	if err := out.WriteFieldStop(ctx); err != nil {
		return err
	}
	return out.WriteStructEnd(ctx)
}

func copyContainer(ctx context.Context, in, out athrift.TProtocol, t athrift.TType, depth int) error {
	switch t {
	case athrift.MAP:
		kt, vt, n, err := in.ReadMapBegin(ctx)
		if err != nil {
			return err
		}
		if err := out.WriteMapBegin(ctx, kt, vt, n); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := copyValue(ctx, in, out, kt, depth-1); err != nil {
				return err
			}
			if err := copyValue(ctx, in, out, vt, depth-1); err != nil {
				return err
			}
		}
		if err := in.ReadMapEnd(ctx); err != nil {
			return err
		}
		return out.WriteMapEnd(ctx)
	case athrift.SET:
		et, n, err := in.ReadSetBegin(ctx)
		if err != nil {
			return err
		}
		if err := out.WriteSetBegin(ctx, et, n); err != nil {
			return err
		}
		if err := copyElems(ctx, in, out, et, n, depth); err != nil {
			return err
		}
		if err := in.ReadSetEnd(ctx); err != nil {
			return err
		}
		return out.WriteSetEnd(ctx)
	}
	et, n, err := in.ReadListBegin(ctx)
	if err != nil {
		return err
	}
	if err := out.WriteListBegin(ctx, et, n); err != nil {
		return err
	}
	if err := copyElems(ctx, in, out, et, n, depth); err != nil {
		return err
	}
	if err := in.ReadListEnd(ctx); err != nil {
		return err
	}
	return out.WriteListEnd(ctx)
}

func copyElems(ctx context.Context, in, out athrift.TProtocol, et athrift.TType, n, depth int) error {
	for i := 0; i < n; i++ {
		if err := copyValue(ctx, in, out, et, depth-1); err != nil {
			return err
		}
	}
	return nil
}
