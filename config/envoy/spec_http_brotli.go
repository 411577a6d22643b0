package envoy

import (
	// The brotli compression libraries of the compressor and decompressor.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/decompressor/v3"
)

// brotliSpecs: the brotli libraries (github.com/andybalholm/brotli).
var brotliSpecs = []message{
	{name: "envoy.extensions.compression.brotli.compressor.v3.Brotli", fields: []field{
		okNote("quality", "default 3"), okNote("window_bits", "default 18"),
		ignored("encoder_mode", "andybalholm/brotli has no mode hint"),
		ignored("input_block_bits", "andybalholm/brotli picks its own"),
		ignored("chunk_size", "output is flushed by the writer"),
		ignored("disable_literal_context_modeling", "andybalholm/brotli has no such knob"),
	}},
	{name: "envoy.extensions.compression.brotli.decompressor.v3.Brotli", fields: []field{
		ignored("disable_ring_buffer_reallocation", "andybalholm/brotli manages its own buffers"),
		ignored("chunk_size", "bodies are streamed"),
	}},
}

// Added to the shared tables here (as spec_http_grpc.go does).
func init() {
	for name, m := range indexSpecs(brotliSpecs) {
		if specs[name] != nil {
			panic("envoy: message " + string(name) + " in two tables")
		}
		specs[name] = m
	}
}
