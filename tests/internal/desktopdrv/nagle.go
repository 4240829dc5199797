package desktopdrv

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// disableNagle turns on TCP_NODELAY for the connected loopback TCP sockets of the app's main
// process, and returns how many it set.
//
// Why: with WEBKIT_INSPECTOR_HTTP_SERVER, WebKitGTK runs an internal inspector server on
// another loopback port; its HTTP/WebSocket front end and the web process reach the page
// through it. Those sockets keep Nagle's algorithm on, and the reply to every page command
// waits for a delayed ACK: each round trip took 44 ms (so 88 ms for a bound method call,
// which needs evaluate then awaitPromise). With TCP_NODELAY on the UI process's ends it takes
// about 0.6 ms. Setting it on the web process's side alone does not help.
//
// How: pidfd_getfd (Linux 5.6) duplicates each socket of the app, which we started and may
// therefore trace; the option set on the duplicate applies to the shared socket. Sockets
// created by Go already have TCP_NODELAY, so in a Go app (Hearth) this changes only WebKit's
// own loopback connections. Listening sockets and non-loopback peers are left alone.
//
// It is best effort: where the kernel or a seccomp profile refuses pidfd_getfd, Eval is
// slower but correct.
func disableNagle(pid int) (int, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return 0, err
	}
	set := 0
	var firstErr error
	for _, e := range entries {
		link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + e.Name())
		if err != nil || !strings.HasPrefix(link, "socket:") {
			continue
		}
		target, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fd, err := unix.PidfdGetfd(pidfd, target, 0)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("pidfd_getfd: %w", err)
			}
			continue
		}
		if loopbackStream(fd) {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err == nil {
				set++
			} else if firstErr == nil {
				firstErr = err
			}
		}
		unix.Close(fd)
	}
	if set == 0 && firstErr != nil {
		return 0, firstErr
	}
	return set, nil
}

// loopbackStream reports whether fd is a connected (not listening) TCP socket whose peer is a
// loopback address.
func loopbackStream(fd int) bool {
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		return false
	}
	if listening, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || listening != 0 {
		return false
	}
	peer, err := unix.Getpeername(fd)
	if err != nil {
		return false
	}
	var addr netip.Addr
	switch p := peer.(type) {
	case *unix.SockaddrInet4:
		addr = netip.AddrFrom4(p.Addr)
	case *unix.SockaddrInet6:
		addr = netip.AddrFrom16(p.Addr).Unmap()
	default:
		return false // Unix sockets (X11, D-Bus, WebKit IPC) have no Nagle to turn off
	}
	return addr.IsLoopback()
}
