package protocol

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// ContentKeys returns the keys course servers put a GET reply's content
// under, in the order a client looks for them when it is not told one:
// fileserverd's "data_file", then "data" and "file_data", which students'
// servers use.
func ContentKeys() []string { return []string{GetContentKey, "data", "file_data"} }

// decodeKept makes the content of a short value kept under one of keys (see
// ReadReplyKeys): the first that is valid base64, or else the first there
// is, whose error then says why. Such a value fits in a reader's buffer,
// so it is decoded whole. keys[0] is never kept: it is always streamed.
func (r *Reply) decodeKept(keys []string, content io.Writer) error {
	chosen, value := "", ""
	for _, k := range keys[min(1, len(keys)):] {
		var s string
		raw, ok := r.Fields[k]
		if !ok || len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			continue
		}
		if _, err := b64.DecodeString(s); err == nil || chosen == "" {
			chosen, value = k, s
			if err == nil {
				break
			}
		}
	}
	if chosen == "" {
		return nil
	}
	delete(r.Fields, chosen)
	r.HasContent, r.ContentKey = true, chosen
	data, err := b64.DecodeString(value)
	if err != nil {
		return malformed("content under %q: invalid base64: %v", chosen, err)
	}
	n, err := content.Write(data)
	r.ContentBytes = int64(n)
	return err
}

// stringFits reports whether the JSON string whose opening quote was just
// read ends within what br can buffer. It reads only bytes of the string,
// so it never waits for more than the server is sending.
func stringFits(br *bufio.Reader) (bool, error) {
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
				return true, nil
			}
		}
		if br.Buffered() >= br.Size() {
			return false, nil
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			if err == io.EOF {
				return true, nil // the value is cut: rawValue says so
			}
			return false, fmt.Errorf("read reply: %w", err)
		}
	}
}
