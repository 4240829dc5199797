//go:build !js

package sqlitestore

import (
	"context"
	"fmt"
	"strings"

	"hearth/engine"
)

var _ engine.RowReader = (*DB)(nil)

// Select returns the live rows q selects (see engine.RowReader), from the read pool.
func (db *DB) Select(ctx context.Context, q engine.Query) ([]engine.Record, error) {
	cols, where, args, err := selectSQL(db.schema, q)
	if err != nil {
		return nil, err
	}
	recs, err := db.queryCols(ctx, q.Table, cols, where, args...)
	if err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	return recs, nil
}

// Select returns the live rows q selects inside the transaction, seeing its writes so far.
func (tx *Tx) Select(q engine.Query) ([]engine.Record, error) {
	cols, where, args, err := selectSQL(tx.db.schema, q)
	if err != nil {
		return nil, err
	}
	recs, err := queryRecords(tx.db.schema, tx.Query, q.Table, cols, where, args...)
	if err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	return recs, nil
}

// selectSQL turns a query into the columns it reads and the WHERE, ORDER BY and LIMIT
// clauses of a SELECT with their arguments.
func selectSQL(s *engine.Schema, q engine.Query) ([]int, string, []any, error) {
	t, err := engine.CheckQuery(s, q)
	if err != nil {
		return nil, "", nil, err
	}
	if q, err = engine.NormalizeQuery(t, q); err != nil {
		return nil, "", nil, err
	}
	var terms []string
	var args []any
	for _, c := range q.Where {
		col := fmt.Sprintf("%q", c.Col)
		switch c.Op {
		case engine.Eq:
			terms, args = append(terms, col+" = ?"), append(args, c.Value)
		case engine.In:
			vals := c.Value.([]any)
			if len(vals) == 0 {
				terms = append(terms, "0")
				continue
			}
			terms = append(terms, col+" IN (?"+strings.Repeat(", ?", len(vals)-1)+")")
			args = append(args, vals...)
		case engine.Ge:
			terms, args = append(terms, col+" >= ?"), append(args, c.Value)
		case engine.Lt:
			terms, args = append(terms, col+" < ?"), append(args, c.Value)
		case engine.Prefix:
			// LIKE ignores ASCII case, as engine.Prefix does; its wildcards are escaped.
			p := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(c.Value.(string))
			terms, args = append(terms, col+` LIKE ? ESCAPE '\'`), append(args, p+"%")
		case engine.NotNull:
			terms = append(terms, col+" IS NOT NULL")
		}
	}
	var b strings.Builder
	if len(terms) > 0 {
		b.WriteString("WHERE " + strings.Join(terms, " AND "))
	}
	order := make([]string, 0, len(q.OrderBy)+1)
	byID := false
	for _, o := range q.OrderBy {
		dir := ""
		if o.Desc {
			dir = " DESC"
		}
		order = append(order, fmt.Sprintf("%q%s", o.Col, dir))
		byID = byID || o.Col == "id"
	}
	if !byID {
		order = append(order, "id")
	}
	b.WriteString(" ORDER BY " + strings.Join(order, ", "))
	if q.Limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, q.Limit)
	}
	return engine.QueryColumns(t, q), b.String(), args, nil
}
