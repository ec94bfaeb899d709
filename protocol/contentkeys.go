package protocol

import (
	"bufio"
	"fmt"
	"io"
)

// ContentKeys returns the keys course servers put a GET reply's content
// under, when a client is not told one: fileserverd's "data_file", then
// "data" and "file_data", which students' servers use. A reply carrying
// both "data" and another of them has its content under the other: "data"
// then holds a message (see ReadReplyKeys).
func ContentKeys() []string { return []string{GetContentKey, "data", "file_data"} }

// stringFits reports whether the JSON string whose opening quote was just
// read ends within what br can buffer, and if so its length, closing
// quote included. It reads only bytes of the string, so it never waits for
// more than the server is sending.
func stringFits(br *bufio.Reader) (n int, fits bool, err error) {
	scanned, escaped := 0, false
	for {
		buf, _ := br.Peek(br.Buffered())
		for ; scanned < len(buf); scanned++ {
			switch c := buf[scanned]; {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				return scanned + 1, true, nil
			}
		}
		if br.Buffered() >= br.Size() {
			return 0, false, nil
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			if err == io.EOF {
				return br.Buffered(), true, nil // the value is cut: reading it says so
			}
			return 0, false, fmt.Errorf("read reply: %w", err)
		}
	}
}
