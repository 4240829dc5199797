package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// Viewer is a store whose committed state can be read as a snapshot: a replica's Store, or the
// server's tenant store.
type Viewer interface {
	Schema() *Schema
	View(ctx context.Context, fn func(v StoreView) error) error
}

// Hash returns a canonical hash of a store's replicated state: every live row of every table
// with its column versions, and every unresolved note version, over the rows in the scopes that
// grants accepts (nil: every scope). Two stores that converged have the same hash whatever
// order they received changes in and whatever kind of store they are; tombstones and
// bookkeeping do not count, nor do inbox tables (Table.Inbox), whose rows go to the server and
// few replicas read. With a token's grants, it is the hash that token's replica should have.
func Hash(ctx context.Context, s Viewer, grants func(scope string) bool) (string, error) {
	h := sha256.New()
	enc := msgpack.NewEncoder(h)
	enc.UseCompactInts(true)
	schema := s.Schema()
	// A note's scope is its row's: with grants, the scopes of rows are kept for the notes.
	scopes := map[string]map[string]string{}
	err := s.View(ctx, func(v StoreView) error {
		for _, t := range schema.Tables() {
			if t.Inbox {
				continue
			}
			if err := enc.Encode(t.Name); err != nil {
				return err
			}
			keep := grants != nil && t.NoteCol() >= 0
			if keep {
				scopes[t.Name] = map[string]string{}
			}
			err := v.Rows(t, func(id string, r *Row) error {
				if grants != nil {
					scope := RowScope(t, id, r.Values)
					if keep {
						scopes[t.Name][id] = scope
					}
					if !grants(scope) {
						return nil
					}
				}
				return enc.Encode([]any{id, r.Values, r.Versions})
			})
			if err != nil {
				return fmt.Errorf("hash %s: %w", t.Name, err)
			}
		}
		tables := slices.SortedFunc(slices.Values(schema.Tables()), func(a, b *Table) int { return strings.Compare(a.Name, b.Name) })
		for _, t := range tables {
			if t.NoteCol() < 0 {
				continue
			}
			// A row's versions are hashed in version order, whatever order the store keeps.
			var row string
			var leaves []NoteVersion
			flush := func() error {
				slices.SortFunc(leaves, func(a, b NoteVersion) int { return a.Version.Compare(b.Version) })
				for _, n := range leaves {
					text, _ := n.Value.(string)
					if err := enc.Encode([]any{t.Name, row, int64(n.Version.HLC), int64(n.Version.Site), text}); err != nil {
						return err
					}
				}
				leaves = leaves[:0]
				return nil
			}
			err := v.NoteLeaves(t, func(id string, n NoteVersion) error {
				if grants != nil {
					scope, ok := scopes[t.Name][id]
					if t.Inbox {
						ok = false // its rows are not hashed, so neither are their notes
					}
					if !ok || !grants(scope) {
						return nil
					}
				}
				if id != row {
					if err := flush(); err != nil {
						return err
					}
					row = id
				}
				leaves = append(leaves, n)
				return nil
			})
			if err == nil {
				err = flush()
			}
			if err != nil {
				return fmt.Errorf("hash notes of %s: %w", t.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// RowScope is the scope of a stored row, from its id, its scope column (vals in column order)
// or its table's fixed scope.
func RowScope(t *Table, id string, vals []any) string {
	var v any
	switch t.ScopeColumn {
	case "":
	case "id":
		v = id
	default:
		v = vals[t.Col(t.ScopeColumn)]
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	s, _ := t.ScopeOf(v)
	return s
}

// Conflict is a version of a note that lost to a concurrent edit and waits for a person.
type Conflict struct {
	Table   string
	ID      string
	Version Version
	Text    string
	// Current is the version the note shows now, which this one lost to.
	Current Version
}

// ListConflicts lists the unresolved note conflicts of a table ("" for every table), by
// table, row and version. A note shows its greatest unsuperseded version (see Apply); the
// others are its conflicts (see Conflicts).
func ListConflicts(ctx context.Context, s Viewer, table string) ([]Conflict, error) {
	var out []Conflict
	err := s.View(ctx, func(v StoreView) error {
		for _, t := range s.Schema().Tables() {
			if t.NoteCol() < 0 || (table != "" && t.Name != table) {
				continue
			}
			err := v.ConflictedNotes(t, func(id string, leaves []NoteVersion) error {
				slices.SortFunc(leaves, func(a, b NoteVersion) int { return a.Version.Compare(b.Version) })
				current := leaves[len(leaves)-1].Version
				for _, n := range Conflicts(leaves, current) {
					text, _ := n.Value.(string)
					out = append(out, Conflict{Table: t.Name, ID: id, Version: n.Version, Text: text, Current: current})
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("conflicts of %s: %w", t.Name, err)
			}
		}
		return nil
	})
	return out, err
}
