package muxpool_test

import "bytes"

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
func bytesBuffer(b []byte) *bytes.Buffer { return bytes.NewBuffer(b) }
