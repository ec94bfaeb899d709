package main

import (
	"errors"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"fileserver/protocol"
)

func TestParseAllow(t *testing.T) {
	list, err := parseAllow(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,::ffff:172.16.0.0/108,")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		"10.1.2.3": true, "11.0.0.1": false, "192.168.1.7": true, "192.168.1.8": false,
		"fd12::1": true, "fe80::1": false, "::ffff:10.9.9.9": true, "172.16.5.5": true, "172.32.0.1": false,
	}
	for ip, want := range cases {
		if got := list.permits(&net.TCPAddr{IP: net.ParseIP(ip), Port: 1}); got != want {
			t.Errorf("-allow permits %s: %v, want %v", ip, got, want)
		}
	}
	if empty, _ := parseAllow(""); !empty.permits(&net.TCPAddr{IP: net.ParseIP("203.0.113.1")}) {
		t.Error("an empty -allow must permit everyone")
	}
	for _, bad := range []string{"10.0.0.0/33", "lab", "10.0.0/8", "10.0.0.0/8;127.0.0.1"} {
		if _, err := parseAllow(bad); err == nil {
			t.Errorf("parseAllow(%q) accepted it", bad)
		}
	}
}

// TestAllowFlagError: a bad CIDR stops the daemon at startup with exit
// status 2 and one line naming the culprit.
func TestAllowFlagError(t *testing.T) {
	out, err := exec.Command(serverBin, "-allow", "10.0.0.0/8,10.0.0.0/33", "-dir", t.TempDir()).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2; output %q", err, out)
	}
	if s := strings.TrimSuffix(string(out), "\n"); strings.Contains(s, "\n") || !strings.Contains(s, `-allow: "10.0.0.0/33"`) {
		t.Errorf("output %q: want one line naming -allow and the bad CIDR", out)
	}
}

var refusedRE = regexp.MustCompile(`msg="connection refused: not in -allow".* remote=127\.0\.0\.1:\d+`)

// TestAllow limits the daemon to 10.0.0.0/8 and 127.0.0.2: a client from
// 127.0.0.1 is closed without a reply, logged, and not counted, while one
// from 127.0.0.2 is served, in both modes (children get the flag).
func TestAllow(t *testing.T) {
	forModesInTurn(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2, "-allow", "10.0.0.0/8,127.0.0.2")
		for range 3 {
			if reply := exchange(t, d.Addr, []byte("LIST\r\n\r\n"), false); reply != "" {
				t.Fatalf("client outside -allow got a reply: %q", reply)
			}
		}
		if _, err := d.Log.WaitForCount(refusedRE, 3, 10*time.Second); err != nil {
			t.Fatalf("refusals not logged: %v\n%s", err, d.Log)
		}

		conn, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).Dial("tcp", d.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c := protocol.NewClient(conn)
		defer c.Close()
		s, err := c.Stats(ctxTimeout(t, 10*time.Second))
		if err != nil {
			t.Fatalf("client in -allow: %v\n%s", err, d.Log)
		}
		if s.Connections != 1 || s.Requests["list"].OK+s.Requests["list"].Failed != 0 {
			t.Errorf("refused connections were counted: connections %d, list %+v; want 1 and none", s.Connections, s.Requests["list"])
		}
	})
}

// TestAllowLoopback: a client inside the allowed network is served.
func TestAllowLoopback(t *testing.T) {
	d := startDaemon(t, "thread", 1, "-allow", "127.0.0.0/8")
	d.list(t)
	if strings.Contains(d.Log.String(), "not in -allow") {
		t.Errorf("loopback client refused under -allow 127.0.0.0/8:\n%s", d.Log)
	}
}
