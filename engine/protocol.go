package engine

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// ProtocolVersion is the wire protocol this build speaks. A peer on another version is
// refused in the handshake with CodeProtocolVersion.
const ProtocolVersion = 1

// MsgType says which body a Frame carries.
type MsgType uint8

// Frame types. Client to server: Hello, Push, Pull, Progress. Server to client: Welcome, Ack,
// Changes, Error.
const (
	MsgHello    MsgType = 1
	MsgWelcome  MsgType = 2
	MsgPush     MsgType = 3
	MsgAck      MsgType = 4
	MsgPull     MsgType = 5
	MsgChanges  MsgType = 6
	MsgProgress MsgType = 7
	MsgError    MsgType = 8
	MsgRequest  MsgType = 9
	MsgResponse MsgType = 10
)

// Frame is one message on the wire: a msgpack map with the type and exactly one body.
type Frame struct {
	Type     MsgType   `msgpack:"y"`
	Hello    *Hello    `msgpack:"hello,omitempty"`
	Welcome  *Welcome  `msgpack:"welcome,omitempty"`
	Push     *Push     `msgpack:"push,omitempty"`
	Ack      *Ack      `msgpack:"ack,omitempty"`
	Pull     *Pull     `msgpack:"pull,omitempty"`
	Changes  *Changes  `msgpack:"changes,omitempty"`
	Progress *Progress `msgpack:"progress,omitempty"`
	Error    *Error    `msgpack:"error,omitempty"`
	Request  *Request  `msgpack:"request,omitempty"`
	Response *Response `msgpack:"response,omitempty"`
}

// Request asks the server to run a named operation in the tenant's write transaction: an
// exclusive act (claiming a patient) that a last-writer-wins field cannot arbitrate. Its effect
// replicates as ordinary changes. Requests need a connection; they are never queued offline.
type Request struct {
	ID   uint64             `msgpack:"id"` // chosen by the client, echoed in the response
	Name string             `msgpack:"name"`
	Args msgpack.RawMessage `msgpack:"args,omitempty"`
}

// Response answers a Request: a result, or an error (whose Code the operation defines).
type Response struct {
	ID     uint64             `msgpack:"id"`
	Result msgpack.RawMessage `msgpack:"result,omitempty"`
	Error  *Error             `msgpack:"error,omitempty"`
}

// Hello opens a session: who the replica is and what it speaks.
type Hello struct {
	Protocol int    `msgpack:"protocol"`
	Schema   int    `msgpack:"schema"`
	Site     SiteID `msgpack:"site"`
	Token    string `msgpack:"token"`
	Client   string `msgpack:"client,omitempty"` // program name and version, for logs
}

// Welcome accepts a session.
type Welcome struct {
	Protocol  int      `msgpack:"protocol"`
	Schema    int      `msgpack:"schema"`     // the server's schema version
	MinSchema int      `msgpack:"min_schema"` // the oldest client schema it accepts
	Tenant    string   `msgpack:"tenant"`
	User      string   `msgpack:"user"`
	Role      string   `msgpack:"role"`
	Scopes    []string `msgpack:"scopes"`
	Time      HLC      `msgpack:"time"` // the server's clock, folded into the replica's
	// Resync tells a replica that was retired (unseen past the retention horizon) to drop
	// its copy, keep its outbox, and sync again from the beginning.
	Resync bool `msgpack:"resync,omitempty"`
	// Floor is the newest deletion the server has compacted away: it drops updates at or below
	// it to rows it no longer knows (see Stale), and a re-syncing replica drops them too.
	Floor HLC `msgpack:"floor,omitempty"`
}

// Push carries a batch of local changes. Batch is an idempotency key chosen by the replica and
// kept across retries: the server applies a batch once and answers a repeat with the same Ack.
type Push struct {
	Batch   string   `msgpack:"batch"`
	Changes []Change `msgpack:"changes"`
}

// Ack confirms that a pushed batch is durable on the server. Seqs holds, for each change of
// the batch in order, the log sequence number it was given, or 0 when it changed nothing.
type Ack struct {
	Batch string   `msgpack:"batch"`
	Seqs  []uint64 `msgpack:"seqs"`
	// Rejected lists the changes the server's rules refused (a write the writer's role may not
	// make, often because the record moved on while the device was offline). They were not
	// applied; the server wrote its current values over what they touched, so the writer's
	// replica converges back, and the replica keeps them for a person to see.
	Rejected []Rejection `msgpack:"rejected,omitempty"`
}

// Rejection is one refused change of a batch: its index in the batch, and why.
type Rejection struct {
	Index   int    `msgpack:"index"`
	Code    string `msgpack:"code"`
	Message string `msgpack:"message"`
}

// Pull asks for every change after Cursor in the replica's scopes, page by page, and then for
// live changes as they happen.
type Pull struct {
	Cursor uint64 `msgpack:"cursor"`
	Limit  int    `msgpack:"limit,omitempty"`
	// Scopes narrows the pull to these scopes; empty means every scope the token grants.
	Scopes []string `msgpack:"scopes,omitempty"`
}

// Changes is one page of the tenant's log, filtered by the session's scopes. Cursor is the
// log position the page ends at: a replica stores it in the same transaction as the page.
type Changes struct {
	Changes []Change `msgpack:"changes"`
	Seqs    []uint64 `msgpack:"seqs"` // each change's log sequence number
	Cursor  uint64   `msgpack:"cursor"`
	More    bool     `msgpack:"more,omitempty"` // another page follows at once
	// Head is the log's newest position when the page was read: with Cursor it tells a
	// replica catching up how far it has to go (a progress bar).
	Head uint64 `msgpack:"head,omitempty"`
	// Horizon is the log position up to which every replica has acknowledged; tombstones at
	// or below it can be compacted.
	Horizon uint64 `msgpack:"horizon,omitempty"`
	// Raw, when set, is sent in place of Changes: the changes as EncodeChange stored them, so
	// that a server sends its log without decoding and encoding every change again.
	Raw [][]byte `msgpack:"-"`
}

// EncodeMsgpack writes the page in the same form whether its changes are decoded or raw.
func (c *Changes) EncodeMsgpack(enc *msgpack.Encoder) error {
	n := 3
	if c.More {
		n++
	}
	if c.Horizon != 0 {
		n++
	}
	if c.Head != 0 {
		n++
	}
	if err := enc.EncodeMapLen(n); err != nil {
		return err
	}
	if err := enc.EncodeString("changes"); err != nil {
		return err
	}
	if c.Raw != nil {
		if err := enc.EncodeArrayLen(len(c.Raw)); err != nil {
			return err
		}
		for _, b := range c.Raw {
			if err := enc.Encode(msgpack.RawMessage(b)); err != nil {
				return err
			}
		}
	} else if err := enc.Encode(c.Changes); err != nil {
		return err
	}
	if err := enc.EncodeString("seqs"); err != nil {
		return err
	}
	if err := enc.Encode(c.Seqs); err != nil {
		return err
	}
	if err := enc.EncodeString("cursor"); err != nil {
		return err
	}
	if err := enc.EncodeUint(c.Cursor); err != nil {
		return err
	}
	if c.More {
		if err := enc.EncodeString("more"); err != nil {
			return err
		}
		if err := enc.EncodeBool(true); err != nil {
			return err
		}
	}
	if c.Horizon != 0 {
		if err := enc.EncodeString("horizon"); err != nil {
			return err
		}
		if err := enc.EncodeUint(c.Horizon); err != nil {
			return err
		}
	}
	if c.Head != 0 {
		if err := enc.EncodeString("head"); err != nil {
			return err
		}
		return enc.EncodeUint(c.Head)
	}
	return nil
}

// Progress reports what a replica has durably applied. Acked is the cursor as of the last
// moment the replica had no unacknowledged local change: only then is everything before it
// known to the replica, which is what tombstone compaction needs.
type Progress struct {
	Cursor uint64 `msgpack:"cursor"`
	Acked  uint64 `msgpack:"acked"`
}

// Error codes sent in Error frames.
const (
	CodeBadRequest      = "bad_request"
	CodeUnauthorized    = "unauthorized"
	CodeForbidden       = "forbidden"
	CodeUnknownTenant   = "unknown_tenant"
	CodeProtocolVersion = "protocol_version"
	CodeSchemaTooOld    = "schema_too_old"
	CodeSchemaTooNew    = "schema_too_new"
	CodeClockSkew       = "clock_skew"
	CodeTooLarge        = "too_large"
	CodeRateLimited     = "rate_limited"
	CodeUnavailable     = "unavailable"
	CodeInternal        = "internal"
)

// Error reports a failure. Batch names the push it answers, if any. Retryable errors are
// transient: try again later, unchanged. Others need the user or the program to act.
type Error struct {
	Code      string `msgpack:"code"`
	Message   string `msgpack:"message"`
	Retryable bool   `msgpack:"retryable,omitempty"`
	Batch     string `msgpack:"batch,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// EncodeFrame serializes a frame.
func EncodeFrame(f *Frame) ([]byte, error) {
	var buf bytes.Buffer
	// A page of the server's raw log entries is most of what it sends: sized up front, its
	// frame is one allocation instead of a buffer doubling to a megabyte and more.
	if f.Changes != nil && f.Changes.Raw != nil {
		n := 64 + 9*len(f.Changes.Seqs)
		for _, b := range f.Changes.Raw {
			n += len(b)
		}
		buf.Grow(n)
	}
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode frame type %d: %w", f.Type, err)
	}
	return buf.Bytes(), nil
}

// DecodeFrame parses and validates a frame: the body must match the type.
func DecodeFrame(b []byte) (_ *Frame, err error) {
	if err := checkMsgpack(b, MaxFrameDepth); err != nil {
		return nil, err
	}
	defer recoverDecode(&err)
	var f Frame
	r := bytes.NewReader(b)
	dec := msgpack.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: decode frame: %v", ErrProtocol, err)
	}
	// A message is exactly one frame: trailing bytes (garbage, or a second frame that would be
	// silently dropped) are refused. bytes.Reader is an io.ByteScanner, so the decoder reads
	// from it directly without buffering ahead, and r.Len() is what the frame left unread.
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the frame", ErrProtocol, r.Len())
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

func (f *Frame) validate() error {
	bodies := 0
	var ok bool
	for typ, set := range map[MsgType]bool{
		MsgHello: f.Hello != nil, MsgWelcome: f.Welcome != nil, MsgPush: f.Push != nil, MsgAck: f.Ack != nil,
		MsgPull: f.Pull != nil, MsgChanges: f.Changes != nil, MsgProgress: f.Progress != nil, MsgError: f.Error != nil,
		MsgRequest: f.Request != nil, MsgResponse: f.Response != nil,
	} {
		if set {
			bodies++
			ok = ok || typ == f.Type
		}
	}
	if bodies != 1 || !ok {
		return fmt.Errorf("%w: frame type %d must carry exactly its own body", ErrProtocol, f.Type)
	}
	return nil
}

// EncodeChange serializes one change, as outboxes and server logs store it.
func EncodeChange(c *Change) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode change %s/%s: %w", c.Table, c.ID, err)
	}
	return buf.Bytes(), nil
}

// recoverDecode turns a panic of the msgpack decoder into a refusal. Hostile input can make
// it panic (a map that repeats a key holding an array, for one); a refused frame must not take
// down the process that received it.
func recoverDecode(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: malformed msgpack (%v)", ErrProtocol, r)
	}
}

// DecodeChange parses EncodeChange's form.
func DecodeChange(b []byte) (_ Change, err error) {
	defer recoverDecode(&err)
	var c Change
	if err := msgpack.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decode change: %w", err)
	}
	return c, nil
}
