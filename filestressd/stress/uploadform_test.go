package stress

import (
	"encoding/base64"
	"strings"
	"testing"

	"fileserver/protocol"
)

// TestProbeContent checks that the probe file's base64 has what a server
// can get wrong: both cases, digits, "+", "/" and padding; and that its
// name is lower-case.
func TestProbeContent(t *testing.T) {
	text := base64.StdEncoding.EncodeToString(probeContent)
	for _, class := range []string{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789", "+", "/", "="} {
		if !strings.ContainsAny(text, class) {
			t.Errorf("the probe's base64 %s has none of %q", text, class)
		}
	}
	if protocol.Base64Len(int64(len(probeContent))) == int64(len(probeContent)) {
		t.Error("the probe's length and size are the same: the length and size layouts cannot be told apart")
	}
	if n := probeName(); n != strings.ToLower(n) || protocol.ValidateName(n) != nil {
		t.Errorf("probe name %q", n)
	}
}
