package clinic

import (
	"bytes"
	"strings"

	"hearth/engine"
)

// Column values reach the rules from msgpack, JSON and SQLite in several Go types; these
// helpers read them the same way whatever the source, so one rule never sees two answers.

// textOf reads a text value; anything else (nil, a number) reads as "".
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

// intOf reads an integer value of any integer type (or a whole float), ok=false otherwise.
func intOf(v any) (int64, bool) {
	n, err := engine.NormalizeValue(engine.Integer, v)
	if err != nil || n == nil {
		return 0, false
	}
	return n.(int64), true
}

// floatOf reads a real value of any numeric type, ok=false otherwise (NaN and infinities
// included: no rule should ever accept them).
func floatOf(v any) (float64, bool) {
	f, err := engine.NormalizeValue(engine.Real, v)
	if err != nil || f == nil {
		return 0, false
	}
	return f.(float64), true
}

// sameValue compares two normalized values, taking an unset value (nil) as equal to its
// type's zero: a visit created without provider_id and one created with "" have no provider.
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return isZero(a) && isZero(b)
	}
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	if _, ok := b.([]byte); ok {
		return false
	}
	if x, ok := intOf(a); ok {
		if y, ok := intOf(b); ok {
			return x == y
		}
	}
	return a == b
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []byte:
		return len(x) == 0
	}
	if n, ok := intOf(v); ok {
		return n == 0
	}
	if f, ok := floatOf(v); ok {
		return f == 0
	}
	return false
}

// collapseSpace trims s and turns every run of inner white space into one space, so that
// "Ana  Maria " and "Ana Maria" are the same name.
func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
