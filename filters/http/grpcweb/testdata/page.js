// The browser side of TestBrowserGrpcWeb: grpc-web's own client runtime
// (npm grpc-web, loaded as /grpc-web.js) calls grpc-go's TestService
// through sluice from another origin (so CORS preflights are real). No
// generated stubs: messages are encoded by hand (the few fields used).
import {GrpcWebClientBase, MethodDescriptor, MethodType} from '/grpc-web.js';

const target = new URLSearchParams(location.search).get('target');

function varint(n) {
  const out = [];
  while (n > 127) { out.push((n & 127) | 128); n >>>= 7; }
  out.push(n);
  return out;
}
function field(num, bytes) { return [(num << 3) | 2, ...varint(bytes.length), ...bytes]; }
const utf8 = (s) => Array.from(new TextEncoder().encode(s));

// SimpleRequest: response_size (2), payload (3) {body (2)}, response_status (7) {code (1), message (2)}.
function simpleRequest(size, bodyLen, code, message) {
  let b = [0x10, ...varint(size)];
  if (bodyLen) b = b.concat(field(3, field(2, new Array(bodyLen).fill(120))));
  if (code) b = b.concat(field(7, [0x08, ...varint(code), ...field(2, utf8(message))]));
  return new Uint8Array(b);
}
// StreamingOutputCallRequest: response_parameters (2) {size (1)}.
function streamRequest(sizes) {
  let b = [];
  for (const s of sizes) b = b.concat(field(2, [0x08, ...varint(s)]));
  return new Uint8Array(b);
}
// payloadLen reads the length of payload.body (field 1, then field 2) of a
// SimpleResponse or StreamingOutputCallResponse.
function payloadLen(bytes) {
  function find(buf, want) {
    let i = 0;
    while (i < buf.length) {
      let tag = 0, shift = 0, c;
      do { c = buf[i++]; tag |= (c & 127) << shift; shift += 7; } while (c & 128);
      const wire = tag & 7;
      if (wire === 0) { do { c = buf[i++]; } while (c & 128); continue; }
      let len = 0; shift = 0;
      do { c = buf[i++]; len |= (c & 127) << shift; shift += 7; } while (c & 128);
      if ((tag >>> 3) === want) return buf.subarray(i, i + len);
      i += len;
    }
    return null;
  }
  const p = find(bytes, 1);
  return p ? (find(p, 2) || []).length : -1;
}

const ident = (x) => x;
const unary = new MethodDescriptor('/grpc.testing.TestService/UnaryCall', MethodType.UNARY, Object, Object, ident, payloadLen);
const streaming = new MethodDescriptor('/grpc.testing.TestService/StreamingOutputCall', MethodType.SERVER_STREAMING, Object, Object, ident, payloadLen);

const results = {};
window.results = results;

async function main() {
  for (const format of ['text', 'binary']) {
    const c = new GrpcWebClientBase({format});
    results[format + '_unary'] = await c.unaryCall(target + '/grpc.testing.TestService/UnaryCall', simpleRequest(70000, 3000), {}, unary);
    try {
      await c.unaryCall(target + '/grpc.testing.TestService/UnaryCall', simpleRequest(0, 0, 5, 'kein Eintrag für 100%'), {}, unary);
      results[format + '_error'] = 'no error';
    } catch (e) {
      results[format + '_error'] = e.code + ' ' + e.message;
    }
  }
  // Server streaming (text: the format whose XHR reads progressively). The
  // server holds the call after the first message until the test sees
  // window.first and releases it.
  const c = new GrpcWebClientBase({format: 'text'});
  const sizes = [];
  await new Promise((resolve, reject) => {
    const st = c.serverStreaming(target + '/grpc.testing.TestService/StreamingOutputCall', streamRequest([7, 70000, 1]), {}, streaming);
    st.on('data', (n) => { sizes.push(n); if (sizes.length === 1) window.first = true; });
    st.on('status', (s) => { results.stream_status = s.code; });
    st.on('error', (e) => reject(new Error(e.code + ' ' + e.message)));
    st.on('end', resolve);
  });
  results.stream = sizes.join(',');
}

main().then(() => { window.done = 'ok'; }, (e) => { window.done = 'error: ' + e; });
