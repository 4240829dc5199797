package engine

import (
	"context"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// CallOptions configure Call.
type CallOptions struct {
	Token  string // empty for a public request (a patient's intake)
	Schema int    // the caller's schema version
	Client string // program name and version, for the server's logs
}

// Call opens a connection, asks the server to run one named operation and closes it. It is for
// callers that keep no replica, such as a patient's intake page: a replica's app asks through
// its Syncer's live connection instead. The operation's refusal is a *RemoteError;
// ErrRequestInDoubt means the connection dropped after the request was sent.
func Call(ctx context.Context, dial Dialer, opts CallOptions, name string, args, result any) error {
	b, err := msgpack.Marshal(args)
	if err != nil {
		return fmt.Errorf("call %s: %w", name, err)
	}
	conn, _, err := handshake(ctx, dial, opts)
	if err != nil {
		return fmt.Errorf("call %s: %w", name, err)
	}
	defer conn.Close()
	req, err := EncodeFrame(&Frame{Type: MsgRequest, Request: &Request{ID: 1, Name: name, Args: b}})
	if err != nil {
		return err
	}
	if err := conn.WriteMessage(ctx, req); err != nil {
		return fmt.Errorf("call %s: %w: %w", name, ErrRequestInDoubt, err)
	}
	for {
		f, err := readFrame(ctx, conn)
		if err != nil {
			return fmt.Errorf("call %s: %w: %w", name, ErrRequestInDoubt, err)
		}
		if f.Type != MsgResponse || f.Response.ID != 1 {
			continue // nothing else is expected; tolerate what a newer server might add
		}
		if f.Response.Error != nil {
			return &RemoteError{Err: *f.Response.Error}
		}
		if result != nil && len(f.Response.Result) > 0 {
			if err := msgpack.Unmarshal(f.Response.Result, result); err != nil {
				return fmt.Errorf("call %s: result: %w", name, err)
			}
		}
		return nil
	}
}

// Handshake connects with opts' token, reads the server's Welcome and closes the connection.
// It tells a device signing in who the token names (user, role, tenant, scopes) and proves
// that the server accepts it. A refused token is a *RemoteError; no connection wraps ErrOffline.
func Handshake(ctx context.Context, dial Dialer, opts CallOptions) (*Welcome, error) {
	conn, w, err := handshake(ctx, dial, opts)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	conn.Close()
	return w, nil
}

// handshake dials, says hello and waits for the Welcome; the caller closes the connection.
func handshake(ctx context.Context, dial Dialer, opts CallOptions) (Conn, *Welcome, error) {
	conn, err := dial.Dial(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	hello, err := EncodeFrame(&Frame{Type: MsgHello, Hello: &Hello{
		Protocol: ProtocolVersion, Schema: opts.Schema, Site: NewSiteID(), Token: opts.Token, Client: opts.Client}})
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if err := conn.WriteMessage(ctx, hello); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	f, err := readFrame(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("handshake: %w", err)
	}
	if f.Type != MsgWelcome || f.Welcome == nil {
		conn.Close()
		return nil, nil, fmt.Errorf("handshake: %w: got frame type %d", ErrProtocol, f.Type)
	}
	return conn, f.Welcome, nil
}

// readFrame reads one frame, turning an Error frame into a *RemoteError.
func readFrame(ctx context.Context, conn Conn) (*Frame, error) {
	b, err := conn.ReadMessage(ctx)
	if err != nil {
		return nil, err
	}
	f, err := DecodeFrame(b)
	if err != nil {
		return nil, err
	}
	if f.Type == MsgError {
		return nil, &RemoteError{Err: *f.Error}
	}
	return f, nil
}
