//go:build !linux

// Elsewhere than Linux there is no /proc to read a server's process tree
// from: the server's cost is not measured, and the summary says so.

package stress

import (
	"errors"
	"net/netip"
)

var errNoProc = errors.New("not measured on this platform: filestressd reads a server's CPU time and memory from Linux's /proc")

// procAvailable says why a server's cost cannot be measured here.
func procAvailable() error { return errNoProc }

type treeMeter struct{}

func startTree(int) (*treeMeter, error) { return nil, errNoProc }

func (*treeMeter) stop() (treeCost, error) { return treeCost{}, errNoProc }

func listenerPIDs(netip.AddrPort) ([]int, bool, error) { return nil, false, errNoProc }

func parentOf(int) int { return 0 }
