package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"fileserver/protocol"
)

// config is everything the daemon is told on its command line.
type config struct {
	Addr            string
	Dir             string
	Mode            string // "thread" or "process"
	Workers         int
	MaxSize         int64
	IdleTimeout     time.Duration
	EndPause        time.Duration // ends a request that only reads, sent without a terminator
	EndPauseWrite   time.Duration // the same for one that changes storage (UPLOAD, DELETE)
	MinRate         int64         // bytes per second a transfer must move; 0: no minimum
	MinRateWindow   time.Duration // what MinRate is averaged over
	HeadTimeout     time.Duration // a request's head must arrive within it
	KeepAlive       time.Duration // a connection waits this long for its next request
	MaxConns        int           // connections held at once, waiting or served
	MaxConnsPerIP   int           // the same from one client address; 0: no cap
	ShutdownTimeout time.Duration
	LogFormat       string // "text" or "json"
	Allow           string // -allow as given, handed on to worker children
	Version         bool
	HardLinks       bool // serve files with more than one hard link

	allow allowList // Allow, parsed
}

const usageText = `fileserverd serves files over the course's text protocol (LIST, GET,
DOWNLOAD, UPLOAD, DELETE, STATS), with a fixed pool of workers: N goroutines
(-mode thread) or N child processes (-mode process), each serving one
connection at a time; connections wait for a request, and for a free
worker, in the waiting room. Requests are read however course clients end
them, text or JSON, down to a pause (-end-pause); see the README.

Usage:
  fileserverd [flags]

Examples:
  fileserverd                                   # :8889, ./files, 5 goroutine workers
  fileserverd -mode process -workers 50 -dir /srv/files
  fileserverd -addr 127.0.0.1:0 -log-format json   # any free port, named in the log
  fileserverd -allow 10.0.0.0/8,127.0.0.1        # the lab subnet and this host only
  fileserverd -head-timeout 5s -max-conns-per-ip 20   # a lab server shared by a class
  printf 'LIST\r\n\r\n' | nc -q1 127.0.0.1 8889
  printf 'list' | nc 127.0.0.1 8889              # answered after -end-pause

Flags:
`

// parseFlags reads the command line into a config. -h prints the usage
// to help and returns flag.ErrHelp, as asked-for output that a pager or
// grep can take; a flag error goes to stderr with the usage after it.
func parseFlags(args []string, help, stderr io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet("fileserverd", flag.ContinueOnError)
	fs.SetOutput(stderr) // the flag package's own error line
	fs.Usage = func() {} // printed below, where it is known which stream it goes to
	fs.StringVar(&cfg.Addr, "addr", ":8889", "listen `address`, host:port (port 0 picks a free one)")
	fs.StringVar(&cfg.Dir, "dir", "files", "storage `directory`, created if missing; under systemd, $STATE_DIRECTORY unless given")
	fs.StringVar(&cfg.Mode, "mode", "thread", "concurrency `model`: thread (goroutines) or process (child processes)")
	fs.IntVar(&cfg.Workers, "workers", 5, "`number` of workers, each serving one connection at a time")
	maxSize := fs.String("max-size", "1GB", "largest accepted upload, decoded (`size`, e.g. 100MB; 1 MB = 1048576 bytes)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", time.Minute, "close a connection that moves nothing for this `duration` (0 = never)")
	endPause := "a LIST, GET or STATS without a terminator ends after this `duration` of silence (0 = never)"
	endPauseWrite := "the same for a DELETE or an UPLOAD, never sooner than -end-pause (0 = never)"
	fs.DurationVar(&cfg.EndPause, "end-pause", 75*time.Millisecond, endPause)
	fs.DurationVar(&cfg.EndPauseWrite, "end-pause-write", time.Second, endPauseWrite)
	// Their old names, kept working, left out of -h (printDefaults).
	fs.DurationVar(&cfg.EndPause, "quiet", 75*time.Millisecond, endPause)
	fs.DurationVar(&cfg.EndPauseWrite, "quiet-write", time.Second, endPauseWrite)
	minRate := fs.String("min-rate", "1KB/s", "cut, with an ERROR, an upload or download slower than this `rate` (0 = off)")
	fs.DurationVar(&cfg.MinRateWindow, "min-rate-window", 10*time.Second, "the `duration` -min-rate is averaged over, counting only time spent waiting for the client")
	fs.DurationVar(&cfg.HeadTimeout, "head-timeout", 10*time.Second, "a new connection must send a whole request head within this `duration`, else it is closed")
	fs.DurationVar(&cfg.KeepAlive, "keepalive-timeout", 15*time.Second, "a connection between requests waits this `duration` for its next one, then is closed")
	fs.IntVar(&cfg.MaxConns, "max-conns", 4096, "most connections held at once, waiting or served (a `number`)")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", 0, "most connections from one client address (`number`; 0 = no cap)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM or SIGINT, let requests in flight finish for up to this `duration`")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log `format` on stderr: text or json")
	fs.StringVar(&cfg.Allow, "allow", "", "serve only clients in these comma-separated `CIDRs` (default: everyone)")
	fs.BoolVar(&cfg.HardLinks, "serve-hard-links", false, "serve files that have other hard links (see README)")
	fs.BoolVar(&cfg.Version, "version", false, "print the version and build information, and exit")
	if err := fs.Parse(args); err != nil {
		out := stderr
		if errors.Is(err, flag.ErrHelp) {
			out = help
		}
		fs.SetOutput(out)
		fmt.Fprint(out, usageText)
		printDefaults(fs)
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (every setting is a flag; see -h)", fs.Arg(0))
	}
	if dir, ok := stateDirectory(fs); ok {
		cfg.Dir = dir
	}
	var err error
	if cfg.allow, err = parseAllow(cfg.Allow); err != nil {
		return cfg, err
	}
	if cfg.MaxSize, err = protocol.ParseSize(*maxSize); err != nil {
		return cfg, fmt.Errorf("-max-size: %w", err)
	}
	if cfg.MinRate, err = parseRate(*minRate); err != nil {
		return cfg, fmt.Errorf("-min-rate: %w", err)
	}
	return cfg, cfg.validate()
}

// printDefaults is fs.PrintDefaults without the old names kept as
// aliases (-quiet, -quiet-write).
func printDefaults(fs *flag.FlagSet) {
	shown := flag.NewFlagSet("", flag.ContinueOnError)
	shown.SetOutput(fs.Output())
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "quiet" && f.Name != "quiet-write" {
			shown.Var(f.Value, f.Name, f.Usage)
			shown.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	shown.PrintDefaults()
}

func (c config) validate() error {
	switch {
	case c.Mode != "thread" && c.Mode != "process":
		return fmt.Errorf("-mode %q: want thread or process", c.Mode)
	case c.Workers < 1 || c.Workers > 4096:
		return fmt.Errorf("-workers %d: want 1 to 4096", c.Workers)
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("-log-format %q: want text or json", c.LogFormat)
	case c.IdleTimeout < 0 || c.ShutdownTimeout < 0 || c.EndPause < 0 || c.EndPauseWrite < 0 || c.HeadTimeout <= 0 || c.KeepAlive <= 0 || c.MinRateWindow <= 0:
		return errors.New("timeouts must not be negative, and -head-timeout, -keepalive-timeout and -min-rate-window must be above 0")
	case c.EndPauseWrite > 0 && c.EndPauseWrite < c.EndPause:
		return fmt.Errorf("-end-pause-write %s is shorter than -end-pause %s: a pause would end an upload sooner than a LIST", c.EndPauseWrite, c.EndPause)
	case c.MaxConns < 1 || c.MaxConnsPerIP < 0:
		return fmt.Errorf("-max-conns %d, -max-conns-per-ip %d: want at least 1, and 0 or more", c.MaxConns, c.MaxConnsPerIP)
	case c.Dir == "":
		return errors.New("-dir must not be empty")
	}
	return nil
}

// parseRate reads a rate such as 1KB/s (a size per second; "/s" may be
// left out) in bytes per second.
func parseRate(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if u := strings.ToLower(t); strings.HasSuffix(u, "/s") {
		t = t[:len(t)-2]
	}
	n, err := protocol.ParseSize(t)
	if err != nil {
		return 0, fmt.Errorf("invalid rate %q: want a size per second, e.g. 1KB/s", s)
	}
	return n, nil
}

// stateDirectory is the storage directory systemd made for the service
// (StateDirectory=, passed as $STATE_DIRECTORY), used unless -dir is on the
// command line. It holds several colon-separated paths when the unit names
// several directories; the first is ours.
func stateDirectory(fs *flag.FlagSet) (string, bool) {
	dirGiven := false
	fs.Visit(func(f *flag.Flag) { dirGiven = dirGiven || f.Name == "dir" })
	first, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":")
	return first, first != "" && !dirGiven
}
