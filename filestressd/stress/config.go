package stress

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fileserver/protocol"
)

// CellOp is the operation a cell measures, spelt as -op, the CSV's
// operation column and the -json lines spell it. It is not a protocol.Op:
// a download cell sends GET (see statsOp), and each cell op has a setup
// and a cleanup of its own.
type CellOp string

// Operations filestressd can measure.
const (
	CellUpload   CellOp = "upload"
	CellDownload CellOp = "download"
	CellList     CellOp = "list"
)

// statsOp is the operation the server counts a cell's requests under: GET
// for a download (fileserverd counts GET and DOWNLOAD together).
func (o CellOp) statsOp() protocol.Op {
	switch o {
	case CellUpload:
		return protocol.OpUpload
	case CellDownload:
		return protocol.OpGet
	case CellList:
		return protocol.OpList
	}
	return protocol.OpOther
}

// Client pools.
const (
	PoolThread  = "thread"
	PoolProcess = "process"
)

// Upload verification (-verify).
const (
	VerifyAuto     = "auto"     // the reply's size and sha256, or a read-back when it has neither
	VerifyReply    = "reply"    // the reply's size and sha256 only
	VerifyReadback = "readback" // a read-back after the window (and the reply's, if any)
	VerifyNone     = "none"     // no read-back (a reply's size and sha256 are still checked)
)

// RequestAuto is -request auto: text, or JSON if the server refuses text;
// and -upload-verb and -upload-form auto: the upload probe finds them.
const RequestAuto = "auto"

// Bounds on -workers. Each worker is a connection and owns fixed buffers
// of workerBufferKiB (a 128 KiB reader, a 96 KiB raw and a 136 KiB encoded
// chunk; see protocol.NewBuffers), whatever the volume. The thread pool
// holds them all in one process, which must stay under 128 MiB: 256 of
// them are 90 MiB, leaving room for the runtime. The process pool gives
// each its own process, and is bounded by how many processes are sensible.
const (
	workerBufferKiB   = 360
	maxThreadWorkers  = 256
	maxProcessWorkers = 1024
)

// Config is one cell, as filestressd's flags of the same names give it
// (see -h and the README's flag table); Validate checks it.
type Config struct {
	Addr    string
	Op      CellOp
	Size    int64  // volume in bytes: -size, or the size of -file
	File    string // "" for generated content
	Workers int
	Pool    string // PoolThread or PoolProcess
	Timeout time.Duration
	Keep    bool
	// Name is -name: a download of a file already on the server.
	Name string
	// Verify is how uploads are verified: VerifyAuto, VerifyReply,
	// VerifyReadback or VerifyNone. Download and list ignore it.
	Verify string
	// Request is -request: RequestAuto, or a protocol.Form.
	Request string
	// Dialect is how to speak to the server: -request (once settled),
	// -terminator, -content-key, and the upload form (-upload-verb,
	// -upload-form, -upload-keys, or the probe's, once settled).
	Dialect protocol.Dialect
	// UploadProbe is set when no upload flag names the upload form: the
	// setup of a cell that uploads then probes for it (see settleUpload).
	UploadProbe bool
	// Repeat (1-based), RunID and Host go into the row and the -json lines.
	Repeat int
	RunID  string
	Host   string
	// StartAt is when the workers are released, the same on every host of
	// a cell; zero: at once, after the setup. The window runs from it.
	StartAt time.Time
	// HostFailed is why this host's part of the cell did not run: every
	// worker failed with kind host, and the server is not contacted.
	HostFailed string
	// ServerPID is the server's process, whose tree's cost is measured
	// over the window (0: the process listening on Addr, when local).
	ServerPID int
	// ServerMode and ServerWorkers are the row's server mode and worker
	// count for a server without STATS; STATS wins where it answers.
	ServerMode    string
	ServerWorkers int
}

// maxStartAhead bounds how far in the future -start-at may be.
const maxStartAhead = time.Hour

// maxRunID bounds -run-id, which goes into every row and JSON line.
const maxRunID = 200

// clientOptions is how setup, read-back, STATS and cleanup speak to the
// server: its dialect, dialling again wherever it closes the connection.
func (c Config) clientOptions() protocol.Options {
	return protocol.Options{Dialect: c.Dialect, Reconnect: true}
}

// Validate tells whether c is a cell filestressd can measure, naming the
// flag that is wrong.
func (c Config) Validate() error {
	switch {
	case c.Op != CellUpload && c.Op != CellDownload && c.Op != CellList:
		return fmt.Errorf("-op %q: want upload, download or list", c.Op)
	case c.Pool != PoolThread && c.Pool != PoolProcess:
		return fmt.Errorf("-pool %q: want thread or process", c.Pool)
	case c.Workers < 1 || c.Workers > maxProcessWorkers:
		return fmt.Errorf("-workers %d: want 1 to %d", c.Workers, maxProcessWorkers)
	case c.Pool == PoolThread && c.Workers > maxThreadWorkers:
		return fmt.Errorf("-workers %d: the thread pool takes at most %d (each worker owns about %d KiB of buffers, and the process stays under 128 MiB); use -pool process for more", c.Workers, maxThreadWorkers, workerBufferKiB)
	case c.Timeout <= 0:
		return fmt.Errorf("-timeout %s: want a positive duration", c.Timeout)
	case c.File != "" && c.Op == CellList:
		return errors.New("-file has no meaning for -op list")
	case c.Name != "" && c.Op != CellDownload:
		return errors.New("-name is for -op download: it names a file already on the server")
	case c.Verify != VerifyAuto && c.Verify != VerifyReply && c.Verify != VerifyReadback && c.Verify != VerifyNone:
		return fmt.Errorf("-verify %q: want auto, reply, readback or none", c.Verify)
	case strings.ContainsAny(c.Dialect.ContentKey, "\"\\"):
		return fmt.Errorf("-content-key %q: want a key without quotes or backslashes", c.Dialect.ContentKey)
	case c.Repeat < 1:
		return fmt.Errorf("-repeat %d: want 1 or more", c.Repeat)
	case len(c.RunID) > maxRunID || strings.IndexFunc(c.RunID, unicode.IsControl) >= 0 || !utf8.ValidString(c.RunID):
		return fmt.Errorf("-run-id %q: want text without control characters, up to %d bytes", c.RunID, maxRunID)
	case !c.StartAt.IsZero() && time.Until(c.StartAt) > maxStartAhead:
		return fmt.Errorf("-start-at %s: more than %s ahead", c.StartAt.Format(time.RFC3339), maxStartAhead)
	case len(c.Host) > maxRunID || strings.IndexFunc(c.Host, unicode.IsControl) >= 0 || strings.ContainsAny(c.Host, ",\"\n") || !utf8.ValidString(c.Host):
		return fmt.Errorf("-host %q: want a name without commas, quotes or control characters, up to %d bytes", c.Host, maxRunID)
	case c.HostFailed != "" && c.Host == "":
		return errors.New("-host-failed needs -host: the row names the host that failed")
	case c.ServerPID < 0:
		return fmt.Errorf("-server-pid %d: want a process id", c.ServerPID)
	case c.ServerMode != "" && c.ServerMode != "thread" && c.ServerMode != "process":
		return fmt.Errorf("-server-mode %q: want thread or process", c.ServerMode)
	case c.ServerWorkers < 0:
		return fmt.Errorf("-server-workers %d: want 1 or more", c.ServerWorkers)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("-addr %q: %w", c.Addr, err)
	}
	// The longest names this run will use must be valid on the wire.
	for _, name := range []string{downloadName(c), uploadName(c, 1<<22, c.Workers)} {
		if err := checkSendableName(name); err != nil {
			return fmt.Errorf("file name %q: %w", name, err)
		}
	}
	return nil
}

// checkSendableName tells whether name can be stored and sent as a parameter.
func checkSendableName(name string) error {
	if err := protocol.ValidateName(name); err != nil {
		return err
	}
	_, err := protocol.AppendRequest(nil, "GET", name)
	return err
}
