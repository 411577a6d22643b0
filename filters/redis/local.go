package redis

import (
	"crypto/subtle"
	"strconv"

	"github.com/sluice-proxy/sluice/codec/redis"
)

var (
	okReply        = []byte("+OK\r\n")
	pongReply      = []byte("+PONG\r\n")
	replyNoProto   = []byte("-NOPROTO sorry, this protocol version is not supported\r\n")
	replyNoPass    = []byte("-ERR Client sent AUTH, but no password is set\r\n")
	replyBadPass   = []byte("-ERR invalid password\r\n")
	replyWrongPass = []byte("-WRONGPASS invalid username-password pair\r\n")
	replyBadDB     = []byte("-ERR only database 0 is supported\r\n")
	replyBadProto  = []byte("-ERR Protocol version is not an integer or out of range\r\n")
)

// local answers PING, ECHO, QUIT, AUTH, SELECT and HELLO; false ends the
// connection (QUIT).
func (c *client) local(cmd redis.Command, ci *redis.CommandInfo, cs *CommandStats) bool {
	args := cmd.Args
	var out []byte
	keep := true
	switch ci.Name {
	case "PING":
		switch len(args) {
		case 1:
			out = pongReply
		case 2:
			out = redis.AppendBulk(nil, args[1])
		default:
			out = redis.AppendWrongArity(nil, "ping")
		}
	case "ECHO":
		out = redis.AppendBulk(nil, args[1])
	case "QUIT":
		out, keep = okReply, false
	case "AUTH":
		out = c.auth(args[1:])
	case "SELECT":
		out = okReply
		if string(args[1]) != "0" {
			out = replyBadDB
		}
	case "HELLO":
		out = c.hello(args[1:])
	}
	if cs != nil {
		if out[0] == '-' {
			cs.Error.Inc()
		} else {
			cs.Success.Inc()
		}
	}
	c.reply(out)
	return keep
}

// auth checks AUTH [username] password against the configured downstream
// credentials.
func (c *client) auth(args [][]byte) []byte {
	cfg := c.p.cfg
	if cfg.DownstreamAuthPassword == "" {
		return replyNoPass
	}
	var user, pass []byte
	switch len(args) {
	case 1:
		pass = args[0]
	case 2:
		user, pass = args[0], args[1]
	default:
		return []byte("-ERR syntax error\r\n")
	}
	wantUser := cfg.DownstreamAuthUsername
	if wantUser == "" {
		wantUser = "default"
	}
	userOK := user == nil || subtle.ConstantTimeCompare(user, []byte(wantUser)) == 1
	if user == nil && cfg.DownstreamAuthUsername != "" && cfg.DownstreamAuthUsername != "default" {
		userOK = false
	}
	passOK := subtle.ConstantTimeCompare(pass, []byte(cfg.DownstreamAuthPassword)) == 1
	if userOK && passOK {
		c.authed = true
		return okReply
	}
	c.authed = false
	if user == nil && cfg.DownstreamAuthUsername == "" {
		return replyBadPass
	}
	return replyWrongPass
}

// hello answers HELLO [2 [AUTH user pass] [SETNAME name]] with the RESP2
// server description; RESP3 is refused with NOPROTO so clients fall back.
func (c *client) hello(args [][]byte) []byte {
	if len(args) > 0 {
		v, err := strconv.Atoi(string(args[0]))
		switch {
		case err != nil || v < 1:
			return replyBadProto
		case v != 2:
			return replyNoProto
		}
		for i := 1; i < len(args); i++ {
			switch string(lower(args[i])) {
			case "auth":
				if i+2 >= len(args) {
					return []byte("-ERR Syntax error in HELLO option 'auth'\r\n")
				}
				if r := c.auth(args[i+1 : i+3]); r[0] == '-' {
					return r
				}
				i += 2
			case "setname":
				if i+1 >= len(args) {
					return []byte("-ERR Syntax error in HELLO option 'setname'\r\n")
				}
				i++
			default:
				return redis.AppendError(nil, "ERR Syntax error in HELLO option '"+string(args[i])+"'")
			}
		}
	}
	if !c.authed {
		return []byte("-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n")
	}
	b := redis.AppendArrayHeader(nil, 14)
	b = redis.AppendBulkString(b, "server")
	b = redis.AppendBulkString(b, "redis")
	b = redis.AppendBulkString(b, "version")
	b = redis.AppendBulkString(b, "7.0.0")
	b = redis.AppendBulkString(b, "proto")
	b = redis.AppendInt(b, 2)
	b = redis.AppendBulkString(b, "id")
	b = redis.AppendInt(b, int64(c.id))
	b = redis.AppendBulkString(b, "mode")
	b = redis.AppendBulkString(b, "standalone")
	b = redis.AppendBulkString(b, "role")
	b = redis.AppendBulkString(b, "master")
	b = redis.AppendBulkString(b, "modules")
	return redis.AppendArrayHeader(b, 0)
}
