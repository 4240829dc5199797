package engine

import "errors"

// Sentinel errors returned by the engine. Callers test them with errors.Is.
var (
	// ErrUnknownTable means a change or write named a table the schema does not declare.
	ErrUnknownTable = errors.New("unknown table")
	// ErrUnknownColumn means a write named a column its table does not declare.
	ErrUnknownColumn = errors.New("unknown column")
	// ErrAppendOnly means an update or delete targeted a row of an append-only table.
	ErrAppendOnly = errors.New("table is append-only: rows cannot be changed or deleted")
	// ErrClockSkew means a remote timestamp lies further in the future than the allowed drift;
	// accepting it would drag every replica's clock forward.
	ErrClockSkew = errors.New("timestamp too far in the future")
	// ErrBadValue means a column value has a type the column does not accept.
	ErrBadValue = errors.New("bad column value")
	// ErrBadID means a row id is empty or malformed.
	ErrBadID = errors.New("bad row id")
	// ErrNotFound means the requested row does not exist (or was deleted).
	ErrNotFound = errors.New("not found")
	// ErrScope means a change belongs to a scope the caller may not read or write.
	ErrScope = errors.New("scope not granted")
	// ErrSchemaVersion means two sides speak schema versions that cannot work together.
	ErrSchemaVersion = errors.New("incompatible schema version")
	// ErrProtocol means a peer sent a frame that breaks the wire protocol.
	ErrProtocol = errors.New("protocol violation")
	// ErrOffline means the operation needs the server and there is no connection.
	ErrOffline = errors.New("offline: this needs a connection to the sync server")
	// ErrRequestInDoubt means the connection was lost after a request was sent and before its
	// answer came: it may or may not have taken effect. Its effect, if any, arrives by sync.
	ErrRequestInDoubt = errors.New("connection lost before the server answered: the request may or may not have taken effect")
)
