package protocol

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"100", 100},
		{"3B", 3},
		{"10MB", 10485760},
		{"1GB", 1 << 30},
		{"512KB", 512 << 10},
		{"1 MB", 1 << 20},
		{"2MiB", 2 << 20},
		{"10mb", 10 << 20},
		{" 5 kb ", 5 << 10},
		{"1K", 1 << 10},
		{"4M", 4 << 20},
		{"2G", 2 << 30},
		{"1TB", 1 << 40},
		{"1TiB", 1 << 40},
		{"7GiB", 7 << 30},
		{"3kib", 3 << 10},
		{"0GB", 0},
		{"8589934591GB", (1<<33 - 1) << 30},
		{"8388607TB", (1<<23 - 1) << 40},
		{"9223372036854775807", math.MaxInt64},
		{"9223372036854775807B", math.MaxInt64},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", " ", "abc", "-1", "-1MB", "1.5MB", "1,5MB", "MB", "B", "1 M B", "1e3", "0x10", "1PB", "1MBB", "one",
		"8589934592GB", "8388608TB", "9223372036854775808", "99999999999999999999", "9007199254740992KB",
	}
	for _, in := range bad {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		} else if !strings.Contains(err.Error(), "invalid size") {
			t.Errorf("ParseSize(%q) error %q", in, err)
		}
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{1023, "1023B"},
		{1024, "1KB"},
		{1536, "1536B"},
		{1<<20 + 1024, "1025KB"},
		{10 << 20, "10MB"},
		{1 << 30, "1GB"},
		{3 << 40, "3TB"},
		{1 << 62, "4194304TB"},
		{math.MaxInt64, "9223372036854775807B"},
	}
	for _, tt := range tests {
		if got := FormatSize(tt.in); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatSizeRoundTrip(t *testing.T) {
	t.Parallel()
	values := []int64{0, 1, 1023, 1024, 1025, 4095, 4096, 1 << 20, 1<<20 - 1, 1<<20 + 1, 100 << 20, 1 << 40, 5<<40 + 1024, 1 << 62, math.MaxInt64, math.MaxInt64 &^ (1<<40 - 1)}
	rng := rand.New(rand.NewPCG(4, 5))
	for i := 0; i < 1000; i++ {
		values = append(values, rng.Int64N(math.MaxInt64), int64(rng.IntN(1<<20))<<(10*rng.IntN(5)))
	}
	for _, n := range values {
		s := FormatSize(n)
		got, err := ParseSize(s)
		if err != nil || got != n {
			t.Errorf("ParseSize(FormatSize(%d) = %q) = %d, %v", n, s, got, err)
		}
	}
}
