package main

import (
	"fmt"
	"testing"
	"time"

	"fileserver/protocol"
)

// uploadFormsSent is every upload form a client of package protocol (so
// filestressd) can send: each verb with each layout, and json-named with
// every pair of the keys it may use.
func uploadFormsSent() []protocol.UploadForm {
	var forms []protocol.UploadForm
	for _, verb := range protocol.UploadVerbs() {
		for _, l := range protocol.UploadLayouts() {
			forms = append(forms, protocol.UploadForm{Verb: verb, Layout: l})
		}
	}
	for _, nameKey := range protocol.UploadNameKeys() {
		for _, payloadKey := range protocol.UploadPayloadKeys() {
			forms = append(forms, protocol.UploadForm{Layout: protocol.LayoutJSONNamed, NameKey: nameKey, PayloadKey: payloadKey})
		}
	}
	return forms
}

// TestUploadFormsAccepted uploads through the real fileserverd, in both
// modes, in every form a client can send, with every request end, in
// files of sizes around the encoder's chunks (each form with every
// size, one a little over 1 MB), half in a text and half in a JSON
// request form: each upload's reply must give the size and SHA-256 sent
// (protocol.Client checks them), and GET must return the same bytes.
func TestUploadFormsAccepted(t *testing.T) {
	sizes := []int64{1, 50, protocol.ChunkSize + 1, 1<<20 + 2}
	for _, mode := range []string{"thread", "process"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			d := startDaemon(t, mode, 2)
			for i, u := range uploadFormsSent() {
				for j, end := range []protocol.End{protocol.EndCRLFCRLF, protocol.EndCRLF, protocol.EndLF, protocol.EndNone} {
					form := protocol.FormText
					if i%2 == 1 {
						form = protocol.FormJSON
					}
					dialect := protocol.Dialect{Form: form, End: end, Upload: u}
					size := sizes[(i+j)%len(sizes)]
					name := fmt.Sprintf("form-%d-%s.bin", i, end)
					checkUploadForm(t, d, dialect, name, size)
				}
			}
		})
	}
}

// checkUploadForm uploads size bytes as name in dialect, then reads them
// back with GET in the same dialect, on connections of their own.
func checkUploadForm(t *testing.T, d *daemon, dialect protocol.Dialect, name string, size int64) {
	t.Helper()
	opts := protocol.Options{Dialect: dialect, Reconnect: true}
	c, err := protocol.DialWith(ctxTimeout(t, 10*time.Second), d.Addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.UploadSized(ctxTimeout(t, 30*time.Second), name, newPattern(uint64(size), size), size)
	if err != nil {
		t.Fatalf("%s, %s: upload of %d bytes: %v", dialect.UploadForm(), dialect, size, err)
	}
	g, err := protocol.DialWith(ctxTimeout(t, 10*time.Second), d.Addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.GetVerified(ctxTimeout(t, 30*time.Second), name, protocol.Expected{Size: size, SHA256: res.SentSHA256}); err != nil {
		t.Fatalf("%s, %s: read back: %v", dialect.UploadForm(), dialect, err)
	}
}
