package protocol

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// ContentKeys returns the keys course servers put a GET reply's content
// under, when a client is not told one: fileserverd's "data_file", then
// "data" and "file_data", which students' servers use. A reply carrying
// both "data" and another of them has its content under the other: "data"
// then holds a message (see decodeKept).
func ContentKeys() []string { return []string{GetContentKey, "data", "file_data"} }

// decodeKept makes the content of a short value kept under one of keys (see
// ReadReplyKeys). "data" comes last, and only when the reply carries no
// other of keys: course servers put a message there beside the content
// ({"data": "berhasil", "file_data": "<base64>"}), and a message may well
// be valid base64. Among the others the first that is valid base64 is
// taken, or else the first there is, whose error then says why. Such a
// value fits in a reader's buffer, so it is decoded whole. keys[0] is
// streamed, and kept only when it came before "status".
func (r *Reply) decodeKept(keys []string, content io.Writer) error {
	kept := keys
	candidates := make([]string, 0, len(kept))
	for _, k := range kept {
		if k != DownloadContentKey {
			candidates = append(candidates, k)
		}
	}
	other := false
	for _, k := range keys {
		if _, ok := r.Fields[k]; ok && k != DownloadContentKey {
			other = true
		}
	}
	if !other && len(candidates) < len(kept) {
		candidates = append(candidates, DownloadContentKey)
	}
	chosen, value := "", ""
	for _, k := range candidates {
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
