package engine

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// Record is one live row as applications see it: its id and its column values by name, each
// normalized to its column's type (string, int64, float64, []byte or nil).
type Record map[string]any

// Op is how a Cond compares a column with its value.
type Op uint8

// Comparisons a Cond can make. A NULL column satisfies none of them but NotNull's negation.
const (
	Eq      Op = iota + 1 // column = Value
	In                    // column is one of Value ([]any)
	Ge                    // column >= Value
	Lt                    // column < Value
	Prefix                // a Text column starts with Value (a string), ignoring ASCII case
	NotNull               // column is not NULL (Value unused)
)

// Cond is one condition of a Query on a column ("id" names the row id).
type Cond struct {
	Col   string
	Op    Op
	Value any
}

// Order sorts a Query's rows by a column, ascending unless Desc. NULLs sort first ascending.
type Order struct {
	Col  string
	Desc bool
}

// Query selects live rows of one table: those meeting every condition in Where, sorted by
// OrderBy and then by id (ids are unique, so the order is total; OrderBy may name "id" itself,
// in either direction), at most Limit of them (0: all). An OrderBy that follows one of the
// store's indexes (the index's columns, then id) lets a store read the rows in order instead
// of sorting them. Values compare as SQLite compares
// them: numbers numerically, text bytewise, NULL below everything.
type Query struct {
	Table string
	// Cols names the columns to read besides the id (nil: every column): each record holds
	// "id" and these alone. A store reads only them, so that a query one of its indexes
	// covers is answered from the index, without reading the rows (the clinic's queue reads,
	// run on every intake and estimate, were five times slower reading whole rows).
	Cols    []string
	Where   []Cond
	OrderBy []Order
	Limit   int
}

// RowReader reads the live rows of a store's replicated tables: what the clinic's screens, the
// server's request handlers and the patient's page read, whatever the store. Every store
// returns the same rows in the same order for the same query (the store conformance suites
// check it); a store may use its indexes to answer, and must answer correctly without them.
type RowReader interface {
	// Get returns one live row, or ErrNotFound when it does not exist or was deleted.
	Get(ctx context.Context, table, id string) (Record, error)
	// Select returns the rows q selects. An unknown table or column is ErrUnknownTable or
	// ErrUnknownColumn.
	Select(ctx context.Context, q Query) ([]Record, error)
}

// CheckQuery verifies that q names a known table and columns and has well-formed conditions.
func CheckQuery(s *Schema, q Query) (*Table, error) {
	t := s.Table(q.Table)
	if t == nil {
		return nil, fmt.Errorf("query %s: %w", q.Table, ErrUnknownTable)
	}
	known := func(col string) error {
		if col != "id" && t.Col(col) < 0 {
			return fmt.Errorf("query %s: %w %q", q.Table, ErrUnknownColumn, col)
		}
		return nil
	}
	for _, c := range q.Where {
		if err := known(c.Col); err != nil {
			return nil, err
		}
		switch c.Op {
		case Eq, Ge, Lt, NotNull:
		case In:
			if _, ok := c.Value.([]any); !ok {
				return nil, fmt.Errorf("query %s: In on %s needs a []any, got %T", q.Table, c.Col, c.Value)
			}
		case Prefix:
			if c.Col != "id" && t.Columns[t.Col(c.Col)].Type != Text {
				return nil, fmt.Errorf("query %s: Prefix on %s, which is not text", q.Table, c.Col)
			}
			if _, ok := c.Value.(string); !ok {
				return nil, fmt.Errorf("query %s: Prefix on %s needs a string, got %T", q.Table, c.Col, c.Value)
			}
		default:
			return nil, fmt.Errorf("query %s: unknown operator %d on %s", q.Table, c.Op, c.Col)
		}
	}
	for _, o := range q.OrderBy {
		if err := known(o.Col); err != nil {
			return nil, err
		}
	}
	for _, c := range q.Cols {
		if err := known(c); err != nil {
			return nil, err
		}
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("query %s: negative limit", q.Table)
	}
	return t, nil
}

// Matches reports whether rec meets every condition of q: the rule a store without a query
// language (memory, IndexedDB) applies row by row.
func (q *Query) Matches(rec Record) bool {
	for _, c := range q.Where {
		v := rec[c.Col]
		switch c.Op {
		case NotNull:
			if v == nil {
				return false
			}
			continue
		}
		if v == nil {
			return false
		}
		switch c.Op {
		case Eq:
			if CompareValues(v, c.Value) != 0 {
				return false
			}
		case In:
			if !slices.ContainsFunc(c.Value.([]any), func(x any) bool { return x != nil && CompareValues(v, x) == 0 }) {
				return false
			}
		case Ge:
			if CompareValues(v, c.Value) < 0 {
				return false
			}
		case Lt:
			if CompareValues(v, c.Value) >= 0 {
				return false
			}
		case Prefix:
			s, ok := v.(string)
			p := c.Value.(string)
			if !ok || len(s) < len(p) || !asciiEqualFold(s[:len(p)], p) {
				return false
			}
		}
	}
	return true
}

// Sort orders recs as q asks (then by id) and cuts them to q.Limit.
func (q *Query) Sort(recs []Record) []Record {
	slices.SortStableFunc(recs, func(a, b Record) int {
		for _, o := range q.OrderBy {
			c := CompareValues(a[o.Col], b[o.Col])
			if o.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return CompareValues(a["id"], b["id"])
	})
	if q.Limit > 0 && len(recs) > q.Limit {
		recs = recs[:q.Limit]
	}
	return recs
}

// Project cuts recs down to the id and q.Cols (unchanged when Cols is nil): the rule a store
// without a query language applies after Sort, since rows may be ordered by columns that are
// not read.
func (q *Query) Project(recs []Record) []Record {
	if q.Cols == nil {
		return recs
	}
	for i, rec := range recs {
		out := make(Record, 1+len(q.Cols))
		out["id"] = rec["id"]
		for _, c := range q.Cols {
			out[c] = rec[c]
		}
		recs[i] = out
	}
	return recs
}

// QueryColumns returns the indexes in t.Columns of the columns q reads, in table order.
func QueryColumns(t *Table, q Query) []int {
	out := make([]int, 0, len(t.Columns))
	for i, c := range t.Columns {
		if q.Cols == nil || slices.Contains(q.Cols, c.Name) {
			out = append(out, i)
		}
	}
	return out
}

// CompareValues orders two column values as SQLite does: NULL first, then numbers (integers
// and reals by value), then text bytewise, then blobs bytewise.
func CompareValues(a, b any) int {
	ra, rb := valueRank(a), valueRank(b)
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
		return cmp.Compare(float64(x), toFloat(b))
	case float64:
		return cmp.Compare(x, toFloat(b))
	case string:
		return strings.Compare(x, b.(string))
	case []byte:
		return bytes.Compare(x, b.([]byte))
	}
	return 0
}

func valueRank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case int64, float64:
		return 1
	case string:
		return 2
	}
	return 3
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// NormalizeQuery returns q with its values normalized to their columns' types (an int as
// int64, say), so that stores compare like with like.
func NormalizeQuery(t *Table, q Query) (Query, error) {
	out := q
	out.Where = make([]Cond, len(q.Where))
	typ := func(col string) ColumnType {
		if col == "id" {
			return Text
		}
		return t.Columns[t.Col(col)].Type
	}
	for i, c := range q.Where {
		out.Where[i] = c
		var err error
		switch c.Op {
		case Eq, Ge, Lt:
			out.Where[i].Value, err = NormalizeValue(typ(c.Col), c.Value)
		case In:
			vals := make([]any, len(c.Value.([]any)))
			for k, v := range c.Value.([]any) {
				if vals[k], err = NormalizeValue(typ(c.Col), v); err != nil {
					break
				}
			}
			out.Where[i].Value = vals
		}
		if err != nil {
			return q, fmt.Errorf("query %s.%s: %w", q.Table, c.Col, err)
		}
	}
	return out, nil
}
