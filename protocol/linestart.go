package protocol

import "time"

// lineKind is what the line after a line break inside a payload (or a
// request being skipped) begins: more of it, a blank line that ends it, or
// the next request.
type lineKind int

const (
	lineBase64  lineKind = iota // more payload: anything else
	lineBlank                   // CR or LF: a blank line (or a stray CR)
	lineRequest                 // a command word and a space, or '{': a request, not base64
	// lineCommandAlone is LIST or STATS alone on the line (in any case,
	// then a line break, EOF or a pause): valid base64 and a request alike.
	lineCommandAlone
)

// lineProbe is how much of a line decides what it begins: the longest
// command word, DOWNLOAD, and the byte after it.
const lineProbe = 9

// classifyLine says what the line starting at the reader's next byte
// begins, reading nothing. A line whose first bytes could still become a
// command word waits for more, up to a pause of wait (then, as at EOF,
// the line is taken as it stands).
func (r *RequestReader) classifyLine(wait time.Duration) (lineKind, error) {
	for {
		b, err := r.br.Peek(min(max(r.br.Buffered(), 1), lineProbe))
		if len(b) == 0 {
			return lineBase64, err // EOF or an error: the caller sees it
		}
		kind, decided := classifyPrefix(b, false)
		if decided || len(b) >= lineProbe {
			return kind, nil
		}
		have := len(b) // b is stale once the reader fills again
		paused, eof, err := r.waitMore(have, wait)
		if err != nil {
			return lineBase64, err
		}
		if !paused && !eof && (wait <= 0 || r.SetPauseWait == nil) {
			_, err := r.br.Peek(have + 1)
			eof = err != nil
		}
		if paused || eof {
			b, _ = r.br.Peek(have)
			kind, _ := classifyPrefix(b, true)
			return kind, nil
		}
	}
}

// classifyPrefix classifies a line from its first bytes b; ended reports
// that nothing follows them (EOF or a pause). decided is false when more
// bytes could change the answer. It runs at every line of a payload, so
// it allocates nothing, and most lines are decided by their first byte.
func classifyPrefix(b []byte, ended bool) (kind lineKind, decided bool) {
	switch b[0] {
	case '\r', '\n':
		return lineBlank, true
	case '{':
		return lineRequest, true
	}
	if !commandInitial[b[0]] {
		return lineBase64, true
	}
	i := 0
	for i < len(b) && isLetter(b[i]) {
		i++
	}
	word := b[:i]
	if i == len(b) {
		switch {
		case ended:
			if params, ok := commandParams(word); ok && params == 0 {
				return lineCommandAlone, true
			}
			return lineBase64, true
		case i < lineProbe && prefixOfCommand(word):
			return lineBase64, false
		}
		return lineBase64, true
	}
	params, ok := commandParams(word)
	switch {
	case !ok:
		return lineBase64, true
	case b[i] == ' ':
		return lineRequest, true
	case (b[i] == '\r' || b[i] == '\n') && params == 0:
		return lineCommandAlone, true
	}
	return lineBase64, true
}

// commandInitial marks the bytes a command word starts with, in either
// case; commandWords are the words, for lookups on bytes.
var (
	commandInitial [256]bool
	commandWords   []commandWord
)

type commandWord struct {
	word   string // upper case
	params int
}

func init() {
	for w, c := range commands {
		commandInitial[w[0]], commandInitial[w[0]-'A'+'a'] = true, true
		commandWords = append(commandWords, commandWord{w, c.params})
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// commandParams is lookupCommand's parameter count for a word given as
// bytes (ASCII case ignored), without allocating.
func commandParams(word []byte) (params int, ok bool) {
	for _, c := range commandWords {
		if len(c.word) == len(word) && equalFoldASCII(word, c.word) {
			return c.params, true
		}
	}
	return 0, false
}

// prefixOfCommand reports whether some command word starts with word
// (ASCII case ignored).
func prefixOfCommand(word []byte) bool {
	for _, c := range commandWords {
		if len(word) <= len(c.word) && equalFoldASCII(word, c.word[:len(word)]) {
			return true
		}
	}
	return false
}

// equalFoldASCII compares b with the upper-case word w, ASCII case ignored.
func equalFoldASCII(b []byte, w string) bool {
	for i := range b {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
