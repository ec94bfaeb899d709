package protocol

import "fmt"

// sameHex reports whether a, as a server wrote it, is the hex digest b:
// the same digits without regard to case (a server may write
// "9F86D0..."), and nothing but hex digits.
func sameHex(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'F' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'F' {
			y += 'a' - 'A'
		}
		if x != y || !isHexDigit(x) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// quoteDigest writes a digest a server sent for a message: as it is when
// it is hex (of a sensible length), else quoted, escaped and bounded
// (%q escapes what is not printable), saying if it was cut.
func quoteDigest(s string, cut bool) string {
	hex := s != "" && len(s) <= 128 && !cut
	for i := 0; hex && i < len(s); i++ {
		hex = isHexDigit(s[i]) || 'A' <= s[i] && s[i] <= 'F'
	}
	switch {
	case hex:
		return s
	case cut:
		return fmt.Sprintf("%.80q (cut)", s)
	}
	return fmt.Sprintf("%.80q", s)
}
