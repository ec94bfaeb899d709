package protocol

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest file name accepted, in bytes.
const MaxNameLen = 255

// ValidateName checks that name is a single, plain path component that
// can be stored: not empty, not "." or "..", not only white space (a name
// no one can tell from another in a listing), no '/', '\\' or control
// bytes, not hidden (leading '.', which the server keeps for its own
// temporary files), at most MaxNameLen bytes of valid UTF-8.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("empty file name")
	case len(name) > MaxNameLen:
		return fmt.Errorf("file name longer than %d bytes", MaxNameLen)
	case !utf8.ValidString(name):
		return errors.New("file name is not valid UTF-8")
	case name == "." || name == "..":
		return fmt.Errorf("file name %q is not allowed", name)
	case strings.TrimFunc(name, unicode.IsSpace) == "":
		return errors.New("file name is only white space")
	case strings.HasPrefix(name, "."):
		return errors.New("file name must not start with '.'")
	case strings.ContainsAny(name, `/\`):
		return errors.New("file name must not contain '/' or '\\'")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return errors.New("file name must not contain control characters")
		}
	}
	return nil
}
