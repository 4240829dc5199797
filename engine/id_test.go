package engine

import (
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var uuidV7RE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// uuidBytes decodes a hyphenated UUID.
func uuidBytes(t *testing.T, id string) [16]byte {
	t.Helper()
	var b [16]byte
	raw, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(raw) != 16 {
		t.Fatalf("%q is not a hyphenated UUID: %v", id, err)
	}
	copy(b[:], raw)
	return b
}

// uuidMillis returns the 48-bit Unix millisecond timestamp of a UUIDv7.
func uuidMillis(t *testing.T, id string) int64 {
	t.Helper()
	b := uuidBytes(t, id)
	var ms int64
	for _, x := range b[:6] {
		ms = ms<<8 | int64(x)
	}
	return ms
}

func TestNewIDIsUUIDv7(t *testing.T) {
	before := time.Now().UnixMilli()
	id := NewID()
	after := time.Now().UnixMilli()
	if !uuidV7RE.MatchString(id) {
		t.Fatalf("NewID() = %q, not a lowercase hyphenated UUIDv7", id)
	}
	b := uuidBytes(t, id)
	if v := b[6] >> 4; v != 7 {
		t.Errorf("version nibble = %d, want 7", v)
	}
	if variant := b[8] >> 6; variant != 0b10 {
		t.Errorf("variant bits = %02b, want 10", variant)
	}
	// The counter may borrow a millisecond or two under load, never more than a few.
	if ms := uuidMillis(t, id); ms < before || ms > after+2 {
		t.Errorf("timestamp %d not in [%d, %d]", ms, before, after)
	}
	if !ValidID(id) {
		t.Errorf("ValidID(NewID()) = false for %q", id)
	}
}

func TestNewIDUniqueAndSorted(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = NewID()
	}
	seen := make(map[string]struct{}, n)
	for i, id := range ids {
		if _, dup := seen[id]; dup {
			t.Fatalf("id %q generated twice", id)
		}
		seen[id] = struct{}{}
		if i > 0 && ids[i-1] >= id {
			t.Fatalf("ids out of order at %d: %q then %q", i, ids[i-1], id)
		}
	}
	for _, id := range []string{ids[0], ids[n/2], ids[n-1]} {
		if !uuidV7RE.MatchString(id) {
			t.Fatalf("%q is not a UUIDv7", id)
		}
	}
}

func TestIDSourceOrder(t *testing.T) {
	base := time.UnixMilli(1_700_000_000_000)
	tests := []struct {
		name  string
		times []time.Time
	}{
		{"time moves forward", []time.Time{base, base.Add(time.Millisecond), base.Add(time.Second), base.Add(time.Hour)}},
		{"many in one millisecond", slices.Repeat([]time.Time{base}, 10_000)}, // exhausts the 12-bit counter
		{"wall clock goes backwards", []time.Time{base, base.Add(-time.Second), base.Add(-time.Hour), base, base.Add(time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s idSource
			prev := ""
			for i, now := range tt.times {
				id := s.next(now)
				if !uuidV7RE.MatchString(id) {
					t.Fatalf("id %d %q is not a UUIDv7", i, id)
				}
				if id <= prev {
					t.Fatalf("id %d %q does not sort after %q", i, id, prev)
				}
				prev = id
			}
		})
	}
}

func TestIDSourceTimestamps(t *testing.T) {
	var s idSource
	t1 := time.UnixMilli(1_700_000_000_000)
	a := s.next(t1)
	if got := uuidMillis(t, a); got != t1.UnixMilli() {
		t.Fatalf("timestamp %d, want %d", got, t1.UnixMilli())
	}
	b := s.next(t1.Add(5 * time.Millisecond))
	if got := uuidMillis(t, b); got != t1.UnixMilli()+5 {
		t.Fatalf("timestamp %d, want %d", got, t1.UnixMilli()+5)
	}
	// 4096+ ids in one millisecond borrow the next millisecond rather than repeat or reorder.
	var last string
	for range 5000 {
		last = s.next(t1.Add(5 * time.Millisecond))
	}
	if got := uuidMillis(t, last); got <= t1.UnixMilli()+5 {
		t.Fatalf("counter exhaustion did not borrow a millisecond: timestamp %d", got)
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"0193f1c2-7d4e-7abc-8def-0123456789ab", true},
		{"patient_42", true},
		{"visit:abc.def-GHI", true},
		{strings.Repeat("x", 64), true},
		{"", false},
		{strings.Repeat("x", 65), false},
		{"has space", false},
		{"slash/id", false},
		{"quote'", false},
		{"semi;colon", false},
		{"tab\t", false},
		{"ünïcode", false},
		{"null\x00byte", false},
		{"percent%", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestSiteID(t *testing.T) {
	for range 100 {
		s := NewSiteID()
		if s == 0 {
			t.Fatal("NewSiteID returned 0")
		}
		str := s.String()
		if len(str) != 16 {
			t.Fatalf("String() = %q, want 16 hex digits", str)
		}
		back, err := ParseSiteID(str)
		if err != nil || back != s {
			t.Fatalf("ParseSiteID(%q) = %v, %v; want %v", str, back, err, s)
		}
	}
	for _, s := range []SiteID{1, 0xff, 1 << 63, ^SiteID(0)} {
		back, err := ParseSiteID(s.String())
		if err != nil || back != s {
			t.Errorf("round trip of %d: got %v, %v", uint64(s), back, err)
		}
	}
	if got := SiteID(0xab).String(); got != "00000000000000ab" {
		t.Errorf("String = %q, want zero-padded lowercase hex", got)
	}
}

func TestParseSiteIDErrors(t *testing.T) {
	for _, s := range []string{
		"",
		"ab",                  // short
		"00000000000000ab0",   // 17 digits
		"0x000000000000ab",    // prefix
		"zzzzzzzzzzzzzzzz",    // not hex
		"+00000000000000a",    // sign
		"000000000000_0ab",    // underscore
		" 00000000000000a",    // space
		"10000000000000000",   // overflows
		"00000000-0000000a",   // hyphen
		"ffffffffffffffffff0", // far too long
	} {
		if v, err := ParseSiteID(s); err == nil {
			t.Errorf("ParseSiteID(%q) = %v, want an error", s, v)
		}
	}
	// Upper-case hex is accepted and means the same site.
	if v, err := ParseSiteID("00000000000000AB"); err != nil || v != 0xab {
		t.Errorf("ParseSiteID(upper case) = %v, %v", v, err)
	}
}
