package protocol

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize parses a byte count: a whole number with an optional unit, B,
// KB, MB, GB or TB (powers of 1024, as the course's reports count them:
// 1 MB = 1,048,576 bytes; KiB, MiB, GiB and TiB are accepted as the same).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	shift := 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"TIB", 40}, {"GIB", 30}, {"MIB", 20}, {"KIB", 10}, {"TB", 40}, {"GB", 30}, {"MB", 20}, {"KB", 10}, {"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0}} {
		if strings.HasSuffix(t, u.suffix) {
			t, shift = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q: want a whole number with an optional unit (KB, MB, GB; 1 MB = 1048576 bytes)", s)
	}
	if n > (1<<63-1)>>shift {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return n << shift, nil
}

// FormatSize writes n bytes the short way ParseSize reads: "100MB" for
// whole units, else the plain byte count.
func FormatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"TB", 40}, {"GB", 30}, {"MB", 20}, {"KB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
