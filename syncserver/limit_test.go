package syncserver

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBucket(100, 50, func() time.Time { return now })
	if ok, _ := b.take(80); !ok {
		t.Fatal("a full bucket refused a batch larger than its burst")
	}
	ok, wait := b.take(1)
	if ok || wait < 290*time.Millisecond || wait > 310*time.Millisecond {
		t.Fatalf("in debt of 30 at 100/s: ok=%v wait=%v, want a refusal and about 300ms", ok, wait)
	}
	now = now.Add(wait)
	if ok, _ := b.take(10); !ok {
		t.Fatal("refused after waiting as told")
	}
	now = now.Add(time.Hour)
	b.take(0)
	if b.tokens != 50 {
		t.Fatalf("tokens %v after an idle hour, want the burst (50)", b.tokens)
	}
	var unlimited *bucket
	if ok, _ := unlimited.take(1 << 30); !ok {
		t.Fatal("a nil bucket limits")
	}
}
