package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"hearth/engine"
	"hearth/engine/clinic"
)

const putHelp = `Usage: hearthctl put --dir R TABLE ID|new col=value ...
       hearthctl put --dir R --delete TABLE ID

Writes one row of the local replica in R (created if needed) and prints its id; "new" makes a
new id. The write waits in the replica's outbox until hearthctl sync.

Values are read by the column's declared type: TEXT as given, INTEGER and REAL as numbers, BLOB
as hex. col:=JSON takes a JSON literal instead: body:=null sets NULL, a BLOB takes base64.
With --resolve, a note edit settles the row's note conflicts (see hearthctl conflicts).

Tables and columns:
`

// tablesHelp lists the schema's tables and columns, so that help never drifts from it.
func tablesHelp() string {
	var b strings.Builder
	for _, t := range clinic.Schema.Tables() {
		fmt.Fprintf(&b, "  %s (%s", t.Name, t.Policy)
		if t.ScopeColumn != "" {
			fmt.Fprintf(&b, "; scope %s:<%s>", t.ScopeKind, t.ScopeColumn)
		}
		b.WriteString(")\n   ")
		for _, col := range t.Columns {
			fmt.Fprintf(&b, " %s %s", col.Name, col.Type)
			if col.Note {
				b.WriteString(" (note)")
			}
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	return strings.ReplaceAll(b.String(), ",\n", "\n")
}

func runPut(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("put", putHelp+tablesHelp())
	dir := fs.String("dir", "", "local replica directory (required)")
	del := fs.Bool("delete", false, "delete the row instead of writing columns")
	resolve := fs.Bool("resolve", false, "this note edit resolves the row's conflicts")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if *dir == "" {
		return usagef("put: --dir is required")
	}
	if len(pos) < 2 {
		return usagef("put: want TABLE and ID (or new), then col=value ... (see hearthctl put --help)")
	}
	t, err := lookupTable(pos[0])
	if err != nil {
		return err
	}
	id := pos[1]
	m := engine.Mutation{Table: t.Name, ID: id, Delete: *del, Resolve: *resolve}
	switch {
	case *del && (id == "new" || len(pos) > 2):
		return usagef("put --delete: want TABLE ID and no values")
	case *del:
	case len(pos) == 2:
		return usagef("put: no values given: want col=value ... (columns of %s: %s)", t.Name, columnNames(t))
	default:
		if m.Values, err = parseValues(t, pos[2:]); err != nil {
			return err
		}
	}
	if id == "new" {
		m.ID = engine.NewID()
	} else if !engine.ValidID(id) {
		return usagef("put: bad id %q: 1-64 of A-Z a-z 0-9 _ . : -", id)
	}
	rep, err := openReplica(ctx, *dir, true)
	if err != nil {
		return err
	}
	defer rep.Close()
	if _, err := rep.Write(ctx, m); err != nil {
		if errors.Is(err, engine.ErrBadValue) || errors.Is(err, engine.ErrUnknownColumn) || errors.Is(err, engine.ErrBadID) {
			return &usageError{fmt.Errorf("put: %w", err)}
		}
		return fmt.Errorf("put: %w", err)
	}
	fmt.Fprintln(c.stdout, m.ID)
	return nil
}

// lookupTable finds a clinic table, or explains which tables exist.
func lookupTable(name string) (*engine.Table, error) {
	if t := clinic.Schema.Table(name); t != nil {
		return t, nil
	}
	names := make([]string, 0, len(clinic.Schema.Tables()))
	for _, t := range clinic.Schema.Tables() {
		names = append(names, t.Name)
	}
	return nil, usagef("unknown table %q: tables are %s", name, strings.Join(names, ", "))
}

func columnNames(t *engine.Table) string {
	names := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		names[i] = col.Name
	}
	return strings.Join(names, ", ")
}

// parseValues reads col=value and col:=JSON arguments by each column's declared type.
func parseValues(t *engine.Table, args []string) (map[string]any, error) {
	vals := make(map[string]any, len(args))
	for _, a := range args {
		name, raw, ok := strings.Cut(a, "=")
		if !ok || name == "" || name == ":" {
			return nil, usagef("put: %q is not col=value", a)
		}
		isJSON := strings.HasSuffix(name, ":")
		name = strings.TrimSuffix(name, ":")
		i := t.Col(name)
		if i < 0 {
			if name == "id" {
				return nil, usagef("put: the id is the argument after the table, not a column")
			}
			return nil, usagef("put: %s has no column %q (columns: %s)", t.Name, name, columnNames(t))
		}
		if _, dup := vals[name]; dup {
			return nil, usagef("put: column %q given twice", name)
		}
		col := t.Columns[i]
		var v any
		var err error
		if isJSON {
			v, err = parseJSONValue(col, raw)
		} else {
			v, err = parseText(col, raw)
		}
		if err != nil {
			return nil, usagef("put: %s.%s is %s: %v", t.Name, name, col.Type, err)
		}
		vals[name] = v
	}
	return vals, nil
}

func parseText(col engine.Column, raw string) (any, error) {
	switch col.Type {
	case engine.Integer:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", raw)
		}
		return n, nil
	case engine.Real:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q is not a finite number", raw)
		}
		return f, nil
	case engine.Blob:
		b, err := hex.DecodeString(strings.TrimPrefix(raw, "0x"))
		if err != nil {
			return nil, fmt.Errorf("%q is not hex", raw)
		}
		return b, nil
	}
	return raw, nil
}

func parseJSONValue(col engine.Column, raw string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%q is not JSON: %v", raw, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%q holds more than one JSON value", raw)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.Number:
		switch col.Type {
		case engine.Integer:
			n, err := x.Int64()
			if err != nil {
				return nil, fmt.Errorf("%s is not a whole number", x)
			}
			return n, nil
		case engine.Real:
			return x.Float64()
		}
		return nil, fmt.Errorf("a JSON number does not fit")
	case string:
		if col.Type == engine.Blob {
			b, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return nil, fmt.Errorf("a BLOB takes a base64 JSON string: %v", err)
			}
			return b, nil
		}
		if col.Type == engine.Text {
			return x, nil
		}
	case bool:
		if col.Type == engine.Integer {
			return x, nil // stored as 0 or 1
		}
	}
	v, err := engine.NormalizeValue(col.Type, v)
	if err != nil {
		return nil, fmt.Errorf("%s does not fit", raw)
	}
	return v, nil
}
