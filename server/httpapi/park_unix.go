//go:build unix

package httpapi

import (
	"crypto/tls"
	"net"
	"syscall"
)

// connAlive tells whether the agent of a parked poll is still connected:
// a peek at the socket without waiting sees the end of the stream (the
// agent closed, or its process died) or a reset. Anything else, data
// included, counts as alive.
func connAlive(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if kc, ok := c.(*keepConn); ok {
		c = kc.Conn
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	alive := true
	var buf [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		case err != nil: // reset, or worse
			alive = false
		case n == 0: // the end of the stream
			alive = false
		}
		return true // never wait for readiness
	})
	return alive
}
