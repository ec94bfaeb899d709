package main

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// allowList is the -allow flag: the networks a lab server answers, so that
// it can be limited to the lab subnet even when it listens on every
// address. Empty allows everyone.
type allowList []netip.Prefix

// parseAllow reads comma-separated CIDRs ("10.0.0.0/8, 192.168.1.0/24").
// A bare address stands for itself alone. It is checked at startup, so a
// typo stops the daemon instead of shutting everyone out, or nobody.
func parseAllow(s string) (allowList, error) {
	var list allowList
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("-allow: %q is not a CIDR such as 10.0.0.0/8 (%w)", f, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8, which permits matches.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		list = append(list, p.Masked())
	}
	return list, nil
}

// permits reports whether a client at addr may be served. IPv4 clients of
// a dual-stack listener (":8889") arrive as ::ffff:a.b.c.d and are matched
// as the IPv4 addresses they are.
func (l allowList) permits(addr net.Addr) bool {
	if len(l) == 0 {
		return true
	}
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range l {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// refuse closes conn, and logs it, if its client is not in -allow. Such a
// connection never reaches a worker's counters: it is no request.
func (s *server) refuse(conn net.Conn) bool {
	if s.cfg.allow.permits(conn.RemoteAddr()) {
		return false
	}
	s.log.Warn("connection refused: not in -allow", "remote", conn.RemoteAddr().String())
	conn.Close()
	return true
}
